// Password and permission checks against the forms of Node-RED's adminAuth (runtime/auth/).
import { expect } from 'chai';
import { hashSync } from 'bcryptjs';
import * as auth from '../../runtime/auth/admin-auth.js';
import { PasswordFailures } from '../../runtime/auth/password-failures.js';

describe('auth: password and permission checks against the forms of adminAuth', function () {
  this.timeout(20_000);
  const hash = hashSync('right', 4);

  it('checks a bcrypt hash from a users array, a single user object and a users function', async function () {
    const entry = { username: 'dana', password: hash, permissions: '*' };
    for (const users of [[entry], entry, async (u: string) => (u === 'dana' ? entry : null)]) {
      const a = { type: 'credentials', users } as never;
      expect(await auth.verifyPassword(a, 'dana', 'right')).to.equal('ok');
      expect(await auth.verifyPassword(a, 'dana', 'wrong')).to.equal('wrong');
      expect(await auth.verifyPassword(a, 'nobody', 'right')).to.equal('wrong');
    }
  });

  it('uses an authenticate function when the settings give one (and adminAuth.module, merged as Node-RED does)', async function () {
    const calls: string[] = [];
    const authenticate = async (u: string, p: string) => (calls.push(u), p === 'right' ? { username: u } : null);
    const a = auth.mergedAdminAuth({ type: 'credentials', module: { authenticate } })!;
    expect(await auth.verifyPassword(a, 'dana', 'right')).to.equal('ok');
    expect(await auth.verifyPassword(a, 'dana', 'wrong')).to.equal('wrong');
    expect(calls).to.deep.equal(['dana', 'dana']);
  });

  it('cannot check a password for an OAuth strategy login without authenticate', async function () {
    expect(await auth.verifyPassword({ type: 'strategy', users: [{ username: 'dana' }] } as never, 'dana', 'x')).to.equal('unsupported');
  });

  it('reads permissions as Node-RED does: read users may look, only * or twinloop.approve may decide', function () {
    const table: Array<[unknown, boolean, boolean]> = [
      ['*', true, true],
      ['read', true, false],
      [['read', 'twinloop.approve'], true, true],
      [['flows.read'], false, false],
      ['twinloop.read', true, false],
      ['write', false, false],
      [[], false, false],
    ];
    for (const [scope, read, approve] of table) {
      expect(auth.hasPermission(scope, 'twinloop.read'), `${JSON.stringify(scope)} read`).to.equal(read);
      expect(auth.hasPermission(scope, 'twinloop.approve'), `${JSON.stringify(scope)} approve`).to.equal(approve);
    }
  });

  it('prints the printedName, else the name, else the user name', function () {
    expect(auth.printedNameOf({ username: 'd', printedName: 'Dana Reyes', name: 'D' }, 'd')).to.equal('Dana Reyes');
    expect(auth.printedNameOf({ username: 'd', name: 'D. R.' }, 'd')).to.equal('D. R.');
    expect(auth.printedNameOf({ username: 'd' }, 'd')).to.equal('d');
  });

  it('locks after five failures inside the window and lets the user in again once they age out', function () {
    const f = new PasswordFailures(5, 60_000);
    for (let i = 0; i < 4; i++) f.fail('u', 1000 + i);
    expect(f.lockedForMs('u', 2000)).to.equal(0);
    f.fail('u', 2000);
    expect(f.lockedForMs('u', 2000)).to.equal(59_000);
    expect(f.lockedForMs('other', 2000)).to.equal(0);
    expect(f.lockedForMs('u', 61_001)).to.equal(0);
    f.fail('v', 0);
    f.succeed('v');
    expect(f.lockedForMs('v', 1)).to.equal(0);
  });

  it("refuses a page request: 401 without a user, 403 when the token's scope lacks the permission, none without adminAuth", function () {
    const a = { type: 'credentials', users: [] } as never;
    expect(auth.accessRefusal(undefined, {}, 'twinloop.read')).to.equal(undefined);
    expect(auth.accessRefusal(a, {}, 'twinloop.read')).to.deep.equal({ status: 401, error: 'log in first' });
    const reader = { user: { username: 'r', permissions: '*' }, authInfo: { scope: 'read' } };
    expect(auth.accessRefusal(a, reader, 'twinloop.read')).to.equal(undefined);
    expect(auth.accessRefusal(a, reader, 'twinloop.approve')).to.have.property('status', 403);
    // Node-RED's anonymous default user has no user name: it reads as 'anonymous'
    expect(auth.requestUser({ user: { anonymous: true, permissions: 'read' } as never })?.username).to.equal('anonymous');
  });
});
