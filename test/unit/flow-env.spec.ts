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

  it('parses a site file: comments, blank lines, export, quotes, trailing notes', function () {
    const env = parseEnvFile('# c\n\nSITE=p1\nexport LINE="l 2"\nA=\'q\' \nB=x # note\nC="it\'s" # n\nD=\nE=a=b\n');
    expect([...env]).to.deep.equal([
      ['SITE', 'p1'],
      ['LINE', 'l 2'],
      ['A', 'q'],
      ['B', 'x'],
      ['C', "it's"],
      ['D', ''],
      ['E', 'a=b'],
    ]);
  });

  it('refuses a malformed site file, naming the file and the line', function () {
    const bad: Array<[string, RegExp]> = [
      ['SITE=p1\nLINE l2\n', /^site\.env:2: expected NAME=value/],
      ['SITE=p1\n\n# x\nPW="abc\n', /^site\.env:4: unbalanced double quote in the value of PW/],
      ["PW='abc\n", /^site\.env:1: unbalanced single quote in the value of PW/],
      ['PW="a"b"\n', /^site\.env:1: unbalanced double quote/],
      ['PW=abc"\n', /^site\.env:1: unbalanced quote in the value of PW/],
      ['SITE=p1\nLINE=a\nSITE=p2\n', /^site\.env:3: SITE is set again \(first on line 1\)/],
      ['SITE=p1\nexport SITE=p1\n', /^site\.env:2: SITE is set again/],
      ['1SITE=p1\n', /^site\.env:1: invalid variable name '1SITE'/],
      ['MY-SITE=p1\n', /^site\.env:1: invalid variable name 'MY-SITE'/],
      ['=p1\n', /^site\.env:1: expected NAME=value/],
    ];
    for (const [text, reason] of bad) expect(() => parseEnvFile(text, 'site.env'), text).to.throw(reason);
  });

  it("takes values from the site file only, never from the deployer's environment", function () {
    const r = resolveNeeds(
      flowNeeds(flow),
      new Map([
        ['SITE', 'p1'],
        ['MQTT_URL', ''],
      ]),
    );
    expect(r.missing).to.deep.equal(['LINE', 'MQTT_PASSWORD', 'MQTT_URL']);
    expect(r.values.get('SITE')).to.equal('p1');
    const leaky: FlowNode[] = [{ id: 'x', type: 'change', rules: [{ to: '${HOME}' }], credentials: { password: '${NODE_RED_PASSWORD}' } }];
    const own = resolveNeeds(flowNeeds(leaky), new Map());
    expect(own.missing).to.deep.equal(['HOME', 'NODE_RED_PASSWORD']);
    expect(own.values.size).to.equal(0);
  });

  it('puts secrets in the global environment as credentials only, and keeps earlier ones', function () {
    expect(isSecretName('DB_PASSWORD')).to.equal(true);
    expect(isSecretName('SITE')).to.equal(false);
    const running: FlowNode[] = [
      { id: 'old', type: 'inject', z: 'other' },
      { id: 'b', type: 'change', z: 't', rules: [] },
      {
        id: 'g',
        type: 'global-config',
        env: [
          { name: 'OLD_TOKEN', value: '', type: 'cred' },
          { name: 'SITE', value: 'p0', type: 'str' },
        ],
      },
    ];
    const withSecret: FlowNode[] = [...flow, { id: 'c', type: 'change', z: 't', rules: [{ to: '${API_TOKEN}' }] }];
    const values = new Map([
      ['SITE', 'p1'],
      ['LINE', 'l1'],
      ['MQTT_URL', 'mqtt://h'],
      ['MQTT_PASSWORD', 'pw'],
      ['API_TOKEN', 'tok'],
    ]);
    const { flows: merged, globalChanged } = mergeDeployment(running, withSecret, flowNeeds(withSecret), values);
    expect(globalChanged).to.equal(true);
    expect(merged.map((n) => n.id)).to.deep.equal(['old', 't', 'a', 'b', 'c', 'g']);
    const g = merged.find((n) => n.type === 'global-config')!;
    expect(g.env).to.deep.include({ name: 'SITE', value: 'p1', type: 'str' });
    expect(g.env).to.deep.include({ name: 'API_TOKEN', value: '', type: 'cred' });
    expect(g.credentials).to.deep.equal({ map: { OLD_TOKEN: '__PWRD__', API_TOKEN: 'tok' } });
    expect(merged.find((n) => n.id === 'a')!.credentials).to.deep.equal({ password: 'pw' });
    expect(JSON.stringify(merged.map(({ credentials: _c, ...rest }) => rest))).to.not.include('tok');
  });

  it('changes nothing that runs unchanged: same site values, credentials Node-RED holds', function () {
    const values = new Map([
      ['SITE', 'p1'],
      ['LINE', 'l1'],
      ['MQTT_URL', 'mqtt://h'],
      ['MQTT_PASSWORD', 'pw'],
    ]);
    const first = mergeDeployment([], flow, flowNeeds(flow), values, {
      site: new Map([
        ['SITE', 'p1'],
        ['ZONE_MAX', '5'],
        ['DB_PASSWORD', 'x'],
      ]),
    });
    const g = first.flows.find((n) => n.type === 'global-config')!;
    // every non-secret site value, so that the site's next flow finds them; no unneeded secret
    expect((g.env as Array<{ name: string }>).map((e) => e.name)).to.deep.equal(['LINE', 'MQTT_URL', 'SITE', 'ZONE_MAX']);
    const running = first.flows.map(({ credentials: _c, ...n }) => n as FlowNode);
    const stored = new Map([['a', { has_password: true }]]);
    const again = mergeDeployment(running, flow, flowNeeds(flow), values, { site: new Map([['SITE', 'p1']]), storedCredentials: stored });
    expect(again.globalChanged).to.equal(false);
    expect(again.flows.find((n) => n.type === 'global-config')).to.deep.equal(running.find((n) => n.type === 'global-config'));
    expect(again.flows.find((n) => n.id === 'a')!.credentials).to.equal(undefined);
    expect(again.keptSecrets).to.deep.equal(['MQTT_PASSWORD']);
    // a changed value changes the global environment; --update-secrets sends the password again
    const moved = mergeDeployment(running, flow, flowNeeds(flow), new Map([...values, ['SITE', 'p2']]), {
      storedCredentials: stored,
      updateSecrets: true,
    });
    expect(moved.globalChanged).to.equal(true);
    expect(moved.flows.find((n) => n.id === 'a')!.credentials).to.deep.equal({ password: 'pw' });
    // a text credential is compared with what Node-RED holds
    const user: FlowNode[] = [{ id: 'u', type: 'twin-influx-config', credentials: { user: 'twin', password: '${MQTT_PASSWORD}' } }];
    const held = new Map([['u', { user: 'twin', has_password: true }]]);
    expect(mergeDeployment(user, user, flowNeeds(user), values, { storedCredentials: held }).flows[0]!.credentials).to.equal(undefined);
    const renamed: FlowNode[] = [{ ...user[0]!, credentials: { user: 'other', password: '${MQTT_PASSWORD}' } }];
    expect(mergeDeployment(user, renamed, flowNeeds(renamed), values, { storedCredentials: held }).flows[0]!.credentials).to.deep.equal({
      user: 'other',
    });
  });
});
