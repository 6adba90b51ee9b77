import { expect } from 'chai';
import { flowNeeds, isSecretName, mergeDeployment, parseEnvFile, resolveNeeds, type FlowNode } from '../../bin/lib/flow-env.js';

describe('flow-env (what a prebuilt flow needs from its site)', function () {
  const flow: FlowNode[] = [
    { id: 't', type: 'tab', label: 'x' },
    { id: 'a', type: 'twin-mqtt-broker', url: '${MQTT_URL}', clientId: 'c-${SITE}', credentials: { password: '${MQTT_PASSWORD}' } },
    { id: 'b', type: 'change', z: 't', rules: [{ to: '${SITE}' }, { to: '${LINE}' }] },
  ];

  it('finds whole-value references in properties (nested too) and in credentials apart', function () {
    const needs = flowNeeds(flow);
    expect([...needs.env].sort()).to.deep.equal(['LINE', 'MQTT_URL', 'SITE']);
    expect([...needs.credentials]).to.deep.equal(['MQTT_PASSWORD']);
  });

  it('parses a site file and names the bad line', function () {
    const env = parseEnvFile('# c\nSITE=p1\nexport LINE="l 2"\nA=\'q\' \nB=x # note\n');
    expect([...env]).to.deep.equal([['SITE', 'p1'], ['LINE', 'l 2'], ['A', 'q'], ['B', 'x']]);
    expect(() => parseEnvFile('SITE=p1\nLINE l2\n', 'site.env')).to.throw(/site\.env:2: expected NAME=value/);
  });

  it('reports what is missing, taking values from the site first and then the environment', function () {
    const r = resolveNeeds(flowNeeds(flow), new Map([['SITE', 'p1'], ['MQTT_URL', '']]), { MQTT_PASSWORD: 's', SITE: 'other' });
    expect(r.missing).to.deep.equal(['LINE', 'MQTT_URL']);
    expect(r.values.get('SITE')).to.equal('p1');
  });

  it('puts secrets in the global environment as credentials only, and keeps earlier ones', function () {
    expect(isSecretName('DB_PASSWORD')).to.equal(true);
    expect(isSecretName('SITE')).to.equal(false);
    const running: FlowNode[] = [
      { id: 'old', type: 'inject', z: 'other' },
      { id: 'b', type: 'change', z: 't', rules: [] },
      { id: 'g', type: 'global-config', env: [{ name: 'OLD_TOKEN', value: '', type: 'cred' }, { name: 'SITE', value: 'p0', type: 'str' }] },
    ];
    const withSecret: FlowNode[] = [...flow, { id: 'c', type: 'change', z: 't', rules: [{ to: '${API_TOKEN}' }] }];
    const values = new Map([['SITE', 'p1'], ['LINE', 'l1'], ['MQTT_URL', 'mqtt://h'], ['MQTT_PASSWORD', 'pw'], ['API_TOKEN', 'tok']]);
    const merged = mergeDeployment(running, withSecret, flowNeeds(withSecret), values);
    expect(merged.map((n) => n.id)).to.deep.equal(['old', 't', 'a', 'b', 'c', 'g']);
    const g = merged.find((n) => n.type === 'global-config')!;
    expect(g.env).to.deep.include({ name: 'SITE', value: 'p1', type: 'str' });
    expect(g.env).to.deep.include({ name: 'API_TOKEN', value: '', type: 'cred' });
    expect(g.credentials).to.deep.equal({ map: { OLD_TOKEN: '__PWRD__', API_TOKEN: 'tok' } });
    expect(merged.find((n) => n.id === 'a')!.credentials).to.deep.equal({ password: 'pw' });
    expect(JSON.stringify(merged.map(({ credentials: _c, ...rest }) => rest))).to.not.include('tok');
  });
});
