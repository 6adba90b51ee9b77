import { expect } from 'chai';
import {
  validateEndpointSettings,
  validateEndpointUrl,
  validateMonitorSettings,
  validateNodeId,
  validateSecurity,
} from '../../runtime/ingest/opcua-config.js';
import { opcuaPkiDir } from '../../nodes/twin-opcua-endpoint/endpoint-api.js';
import { backoffDelayMs, classifyError, OpcuaSessionManager } from '../../runtime/ingest/opcua-session.js';

describe('opcua-config: endpoint and item validation', function () {
  it('accepts opc.tcp URLs and rejects anything else', function () {
    expect(validateEndpointUrl(' opc.tcp://plc.local:4840/UA/Server ')).to.equal('opc.tcp://plc.local:4840/UA/Server');
    expect(validateEndpointUrl('opc.tcp://10.0.0.5')).to.equal('opc.tcp://10.0.0.5');
    expect(validateEndpointUrl('opc.tcp://[::1]:4840')).to.equal('opc.tcp://[::1]:4840');
    for (const bad of [
      '',
      '   ',
      'http://x:4840',
      'opc.tcp://',
      'opc.tcp://host:0/x',
      'opc.tcp://host:99999',
      'opc.tcp://ho st:4840',
      42,
      undefined,
    ]) {
      expect(() => validateEndpointUrl(bad), String(bad))
        .to.throw()
        .with.property('code', 'BAD_CONFIG');
    }
  });

  it('checks that security mode and policy agree', function () {
    expect(validateSecurity('None', 'None')).to.deep.equal({ securityMode: 'None', securityPolicy: 'None' });
    expect(validateSecurity(undefined, undefined)).to.deep.equal({ securityMode: 'None', securityPolicy: 'None' });
    for (const p of ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']) {
      expect(validateSecurity('Sign', p).securityPolicy).to.equal(p);
      expect(validateSecurity('SignAndEncrypt', p).securityMode).to.equal('SignAndEncrypt');
    }
    expect(() => validateSecurity('None', 'Basic256Sha256')).to.throw(/None needs security policy None/);
    expect(() => validateSecurity('Sign', 'None')).to.throw(/needs a security policy/);
    expect(() => validateSecurity('SignAndEncrypt', undefined)).to.throw(/security policy must be one of/);
    expect(() => validateSecurity('Sign', 'Basic128Rsa15')).to.throw(/security policy must be one of/);
    expect(() => validateSecurity('Encrypt', 'Basic256Sha256')).to.throw(/security mode must be one of/);
  });

  it('builds endpoint settings with credentials only for user/password authentication', function () {
    const base = { endpointUrl: 'opc.tcp://h:4840', securityMode: 'Sign', securityPolicy: 'Basic256Sha256', pkiDir: '/pki' };
    const anon = validateEndpointSettings({ ...base, user: 'ignored', password: 'ignored' });
    expect(anon).to.deep.equal({
      endpointUrl: 'opc.tcp://h:4840',
      securityMode: 'Sign',
      securityPolicy: 'Basic256Sha256',
      pkiDir: '/pki',
      acceptUnknownCertificates: false,
    });
    const user = validateEndpointSettings({ ...base, authMode: 'username', user: 'op', password: 'pw', acceptUnknownCertificates: true });
    expect(user).to.include({ user: 'op', password: 'pw', acceptUnknownCertificates: true });
    expect(() => validateEndpointSettings({ ...base, authMode: 'username', user: ' ' })).to.throw(/user name is required/);
    expect(() => validateEndpointSettings({ ...base, authMode: 'cert' })).to.throw(/anonymous or username/);
  });

  it('validates node ids with node-opcua', function () {
    expect(validateNodeId('ns=1;s=extruder.zone1_temp')).to.equal('ns=1;s=extruder.zone1_temp');
    expect(validateNodeId('i=2258')).to.equal('ns=0;i=2258');
    expect(validateNodeId('ns=2;i=7')).to.equal('ns=2;i=7');
    for (const bad of ['', 'ns=1;q=x', 'ns=abc;s=x', 'hello world', null]) {
      expect(() => validateNodeId(bad), String(bad))
        .to.throw()
        .with.property('code', 'BAD_CONFIG');
    }
  });

  it('validates items, sampling interval, deadband, queue size and max future', function () {
    const items = [
      { nodeId: 'ns=1;s=A', asset: ' site/line ', tag: 'a', unit: 'degC' },
      { nodeId: 'ns=1;s=B', asset: 'site/line', tag: 'b', unit: '' },
    ];
    const s = validateMonitorSettings({ items, samplingIntervalMs: '250', deadband: 0.5, queueSize: 4, maxFutureMs: 0 });
    expect(s).to.deep.equal({
      items: [
        { nodeId: 'ns=1;s=A', asset: 'site/line', tag: 'a', unit: 'degC' },
        { nodeId: 'ns=1;s=B', asset: 'site/line', tag: 'b' },
      ],
      samplingIntervalMs: 250,
      deadband: 0.5,
      reportTimestamps: false,
      queueSize: 4,
      maxFutureMs: 0,
    });
    const d = validateMonitorSettings({ items });
    expect(d).to.include({ samplingIntervalMs: 1000, deadband: 0, reportTimestamps: false, queueSize: 1, maxFutureMs: 5000 });
    expect(validateMonitorSettings({ items, reportTimestamps: true }).reportTimestamps).to.equal(true);

    const bad: Array<[object, RegExp]> = [
      [{ items: [] }, /at least one item/],
      [{ items: [{ nodeId: 'ns=1;s=A', tag: 'a' }] }, /asset is required/],
      [{ items: [{ nodeId: 'ns=1;s=A', asset: 'x' }] }, /tag is required/],
      [{ items: [{ nodeId: 'ns=1;s=A', asset: 'x', tag: 'a/b' }] }, /must not contain/],
      [
        {
          items: [
            { nodeId: 'ns=1;s=A', asset: 'x', tag: 'a' },
            { nodeId: 'ns=1;s=A', asset: 'x', tag: 'b' },
          ],
        },
        /listed twice/,
      ],
      [
        {
          items: [
            { nodeId: 'ns=1;s=A', asset: 'x', tag: 'a' },
            { nodeId: 'ns=1;s=B', asset: 'x', tag: 'a' },
          ],
        },
        /mapped twice/,
      ],
      [{ items, samplingIntervalMs: -1 }, /sampling interval/],
      [{ items, samplingIntervalMs: 'x' }, /sampling interval/],
      [{ items, deadband: -1 }, /deadband/],
      [{ items, queueSize: 0 }, /queue size/],
      [{ items, queueSize: 1.5 }, /queue size/],
      [{ items, maxFutureMs: Infinity }, /max future/],
      [{ items: [null] }, /nodeId is required/],
    ];
    for (const [cfg, re] of bad)
      expect(() => validateMonitorSettings(cfg as never), JSON.stringify(cfg))
        .to.throw(re)
        .with.property('code', 'BAD_CONFIG');
  });
});

describe('opcua-session helpers', function () {
  it('backs off exponentially within ±10 %, capped', function () {
    expect(backoffDelayMs(0, 1000, 30_000, () => 0.5)).to.equal(1000);
    expect(backoffDelayMs(3, 1000, 30_000, () => 0.5)).to.equal(8000);
    expect(backoffDelayMs(10, 1000, 30_000, () => 0.5)).to.equal(30_000);
    expect(backoffDelayMs(1, 1000, 30_000, () => 0)).to.equal(1800);
    expect(backoffDelayMs(1, 1000, 30_000, () => 1)).to.equal(2200);
  });

  it('classifies connection errors for the status line', function () {
    expect(classifyError(new Error('BadUserAccessDenied (0x801f0000)'))).to.include({ errorKind: 'access denied' });
    expect(classifyError(new Error('server Certificate verification failed with err BadCertificateUntrusted (0x801a0000)'))).to.include({
      errorKind: 'cert untrusted',
    });
    expect(classifyError(new Error('connect ECONNREFUSED 127.0.0.1:4840'))).to.include({ errorKind: 'unreachable' });
    expect(classifyError(new Error('Cannot find ANONYMOUS user token policy in end point description'))).to.include({
      errorKind: 'access denied',
    });
    expect(classifyError(new Error('something else'))).to.deep.equal({ error: 'something else', errorKind: 'error' });
  });

  it('keys connections by configuration without keeping the password in clear', function () {
    const s = {
      endpointUrl: 'opc.tcp://h:1',
      securityMode: 'None' as const,
      securityPolicy: 'None' as const,
      pkiDir: '/p',
      acceptUnknownCertificates: false,
      user: 'u',
      password: 'secret-pw',
    };
    const k = OpcuaSessionManager.keyOf(s);
    expect(k).not.to.contain('secret-pw');
    expect(OpcuaSessionManager.keyOf({ ...s })).to.equal(k);
    expect(OpcuaSessionManager.keyOf({ ...s, password: 'other' })).not.to.equal(k);
    expect(OpcuaSessionManager.keyOf({ ...s, securityMode: 'Sign', securityPolicy: 'Basic256Sha256' })).not.to.equal(k);
  });
});

describe('twin-opcua-endpoint PKI folder', function () {
  it('lives in the Node-RED user directory, else TWINLOOP_HOME, else the temp dir', function () {
    expect(opcuaPkiDir('/home/nr/.node-red', {})).to.equal('/home/nr/.node-red/twinloop/pki/opcua');
    expect(opcuaPkiDir(undefined, { TWINLOOP_HOME: '/srv/twinloop' })).to.equal('/srv/twinloop/pki/opcua');
    expect(opcuaPkiDir(undefined, {})).to.match(/twinloop-[^/]+\/pki\/opcua$/);
  });
});
