// Where secrets come from (issue 13): an env var taken out of the environment at first read, a
// placeholder Node-RED could not fill, and the signing key found as `twinloop start` provides it.
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSigningKey, takeEnvSecret } from '../../nodes/twin-ledger/ledger-api.js';
import { unresolvedEnv } from '../../nodes/shared/secret-file.js';
import { findSigningKey, signingKeyFile } from '../../bin/lib/demo-users.js';

describe('secret sources', function () {
  it('takeEnvSecret: the value leaves the environment at the first read and is still found after', function () {
    const env: NodeJS.ProcessEnv = { SECRET_SOURCES_A: 'v'.repeat(20), OTHER: 'x' };
    expect(takeEnvSecret('SECRET_SOURCES_A', env)).to.equal('v'.repeat(20));
    expect(env).to.deep.equal({ OTHER: 'x' });
    expect(takeEnvSecret('SECRET_SOURCES_A', env)).to.equal('v'.repeat(20));
    // set again (a restarted service unit in-process, a test): the new value wins and leaves too
    env.SECRET_SOURCES_A = 'w'.repeat(20);
    expect(takeEnvSecret('SECRET_SOURCES_A', env)).to.equal('w'.repeat(20));
    expect(env.SECRET_SOURCES_A).to.equal(undefined);
    expect(takeEnvSecret('SECRET_SOURCES_NEVER_SET', env)).to.equal(undefined);
  });

  it('an unresolved ${NAME} names no key file; the env var source still applies', function () {
    expect(unresolvedEnv('${TWINLOOP_SIGNING_KEY_FILE}')).to.equal(true);
    expect(unresolvedEnv('/etc/k')).to.equal(false);
    const read = () => ({ problem: 'must not be read' });
    expect(resolveSigningKey(undefined, 'K', () => 'k'.repeat(20), '${TWINLOOP_SIGNING_KEY_FILE}', read)).to.deep.equal({
      key: 'k'.repeat(20),
    });
    expect(
      resolveSigningKey(
        undefined,
        'K',
        () => 'k'.repeat(20),
        '/etc/k',
        () => ({ key: 'f'.repeat(20) }),
      ),
    ).to.deep.equal({ key: 'f'.repeat(20) });
  });

  it('findSigningKey: TWINLOOP_SIGNING_KEY, else the file TWINLOOP_SIGNING_KEY_FILE names, else <home>/signing.key', function () {
    const home = mkdtempSync(join(tmpdir(), 'secret-sources-'));
    writeFileSync(join(home, 'signing.key'), 'h'.repeat(20) + '\n', { mode: 0o600 });
    const other = join(home, 'elsewhere.key');
    writeFileSync(other, 'o'.repeat(20) + '\n', { mode: 0o600 });
    expect(findSigningKey(home, {})).to.deep.equal({ key: 'h'.repeat(20), source: join(home, 'signing.key') });
    expect(findSigningKey(home, { TWINLOOP_SIGNING_KEY_FILE: other })).to.deep.equal({ key: 'o'.repeat(20), source: other });
    expect(findSigningKey(home, { TWINLOOP_SIGNING_KEY: 'e'.repeat(20), TWINLOOP_SIGNING_KEY_FILE: other }).source).to.equal(
      'env TWINLOOP_SIGNING_KEY',
    );
    expect(signingKeyFile(home, {})).to.equal(join(home, 'signing.key'));
  });
});
