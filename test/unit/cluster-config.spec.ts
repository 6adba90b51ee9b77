/** The twin-cluster settings as its edit dialog gives them, and a line's MQTT session id. */
import { expect } from 'chai';
import { lineClientId, parseClusterSettings, parseLineList } from '../../runtime/cluster/cluster-config.js';

const host = { hostname: 'edge7', pid: 4242 };

describe('cluster: twin-cluster settings', () => {
  it('reads servers, lines, lease in seconds and replicas; a blank instance name is host-pid', () => {
    const s = parseClusterSettings(
      { servers: 'nats://a:4222 nats://b:4222', lines: 'p/a/l1\np/a/l2, p/a/l1', ttlS: '5', replicas: '1' },
      host,
    );
    expect(s).to.deep.equal({
      servers: ['nats://a:4222', 'nats://b:4222'],
      instance: 'edge7-4242',
      lines: ['p/a/l1', 'p/a/l2'],
      ttlMs: 5000,
      replicas: 1,
      slack: 1,
    });
    const t = parseClusterSettings(
      { servers: 'tls://a:4222', instance: ' nr-1 ', lines: 'p/a/l1', tlsCaFile: ' /etc/ca.pem ', slack: '0' },
      host,
    );
    expect(t).to.include({ instance: 'nr-1', ttlMs: 10_000, replicas: 3, slack: 0, tlsCaFile: '/etc/ca.pem' });
  });

  it('refuses bad lines, leases, slack and servers, naming what is wrong', () => {
    expect(() => parseLineList('')).to.throw(/no lines/);
    expect(() => parseLineList('p/a/l1\nplant/line2')).to.throw(/plant\/line2/);
    const base = { servers: 'nats://a:4222', lines: 'p/a/l1' };
    expect(() => parseClusterSettings({ ...base, ttlS: '0' }, host)).to.throw(/lease must be 1–600 s/);
    expect(() => parseClusterSettings({ ...base, ttlS: 'ten' }, host)).to.throw(/lease/);
    expect(() => parseClusterSettings({ ...base, slack: '1.5' }, host)).to.throw(/slack/);
    expect(() => parseClusterSettings({ ...base, replicas: '2' }, host)).to.throw(/1, 3 or 5/);
    expect(() => parseClusterSettings({ ...base, servers: 'nats://u:pw@a:4222' }, host)).to.throw(/credentials/);
  });

  it('gives each line one MQTT client id, the same on every instance, never shared by two lines', () => {
    expect(lineClientId('plant7/extrusion/line1')).to.equal('twinloop-plant7_2fextrusion_2fline1');
    expect(lineClientId('p/a/l_1')).to.not.equal(lineClientId('p/a/l.1'));
    const long = `p/a/${'x'.repeat(100)}`;
    expect(lineClientId(long)).to.match(/^twinloop-[0-9a-f]{40}$/);
    expect(lineClientId(long)).to.not.equal(lineClientId(`${long}y`));
    expect(() => lineClientId('not-a-line')).to.throw(/line id/);
  });
});
