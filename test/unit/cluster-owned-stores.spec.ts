/**
 * OwnedStores (runtime/cluster/owned-stores.ts): a line's stores open only while the line is owned,
 * refused with a reason naming the line otherwise, closed on release, never two open at once, and an
 * open that outlives its ownership closes what it opened. The 'owner' record has no asset or tag, so a
 * gate's restore ignores it and the ledger's checks accept it.
 */
import { expect } from 'chai';
import { NotLineOwnerError, OwnedStores, ownerEntry } from '../../runtime/cluster/owned-stores.js';
import { buildRecord, ChainChecker } from '../../runtime/control/ledger-verify.js';
import { restoreGateState } from '../../runtime/control/gate-restore.js';
import { ledgerKeys } from '../../runtime/control/ledger-auth.js';

const LINE = 'site1/area1/line1';

interface Fake {
  n: number;
  closed: boolean;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function rig(opts: { manual?: boolean } = {}) {
  const opened: Fake[] = [];
  const log: string[] = [];
  const pending: Array<ReturnType<typeof deferred<Fake>>> = [];
  const errors: Error[] = [];
  const stores = new OwnedStores<Fake>({
    line: LINE,
    open: () => {
      const s: Fake = { n: opened.length + 1, closed: false };
      opened.push(s);
      log.push(`open ${s.n} (open now: ${opened.filter((x) => !x.closed).length})`);
      if (!opts.manual) return Promise.resolve(s);
      const d = deferred<Fake>();
      pending.push(d);
      return d.promise.then(() => s);
    },
    close: async (s) => {
      s.closed = true;
      log.push(`close ${s.n}`);
    },
    onOpenError: (e) => errors.push(e),
  });
  return { stores, opened, log, pending, errors };
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

describe('cluster: stores that follow the line ownership (OwnedStores)', () => {
  it('refuses while not owned, naming the line; opens on owned; closes on released; opens again on owned', async () => {
    const { stores, opened, log } = rig();
    const err = await rejection(stores.get());
    expect(err).to.be.instanceOf(NotLineOwnerError);
    expect((err as NotLineOwnerError).code).to.equal('REFUSED');
    expect(err!.message).to.contain(LINE).and.contain('another instance');
    expect(opened).to.have.length(0);

    stores.owned();
    const s1 = await stores.get();
    expect(s1.n).to.equal(1);
    expect(await stores.get(), 'one open per ownership').to.equal(s1);
    await stores.released();
    expect(s1.closed).to.equal(true);
    expect(await rejection(stores.get())).to.be.instanceOf(NotLineOwnerError);

    stores.owned();
    const s2 = await stores.get();
    expect(s2.n).to.equal(2);
    expect(log).to.deep.equal(['open 1 (open now: 1)', 'close 1', 'open 2 (open now: 1)']);
  });

  it('released while opening: the late stores are closed, the waiting caller refused; a new ownership opens fresh', async () => {
    const { stores, opened, pending } = rig({ manual: true });
    stores.owned();
    const waiting = rejection(stores.get());
    await new Promise((r) => setImmediate(r));
    expect(pending).to.have.length(1);
    // the line is lost and won again before the open finished
    const closed = stores.released();
    stores.owned();
    const next = stores.get();
    await new Promise((r) => setImmediate(r));
    expect(opened, 'the second open waits for the first to close: never two handles on the line').to.have.length(1);
    pending[0]!.resolve(opened[0]!);
    expect(await waiting).to.be.instanceOf(NotLineOwnerError);
    await closed;
    expect(opened[0]!.closed, 'stores of a lost ownership are closed').to.equal(true);
    await new Promise((r) => setImmediate(r));
    expect(opened).to.have.length(2);
    pending[1]!.resolve(opened[1]!);
    expect((await next).n).to.equal(2);
    expect(opened[1]!.closed).to.equal(false);
  });

  it('a failed open is reported and tried again on the next get(); stop() closes for good', async () => {
    let fail = true;
    const errors: Error[] = [];
    const stores = new OwnedStores<Fake>({
      line: LINE,
      open: async () => {
        if (fail) throw new Error('cluster unreachable');
        return { n: 1, closed: false };
      },
      close: async (s) => void (s.closed = true),
      onOpenError: (e) => errors.push(e),
    });
    stores.owned();
    await new Promise((r) => setImmediate(r));
    expect(errors.map((e) => e.message)).to.deep.equal(['cluster unreachable']);
    fail = false;
    const s = await stores.get();
    expect(s.n).to.equal(1);
    await stores.stop();
    expect(s.closed).to.equal(true);
    stores.owned();
    expect(stores.owns()).to.equal(false);
    expect((await rejection(stores.get()))!.message).to.match(/closed/);
  });

  it("the 'owner' record: chained and MAC'ed like any record, ignored by a gate's restore", () => {
    const keys = ledgerKeys('owned-stores-spec-key-0123456789');
    const e = ownerEntry(LINE, 'nr-b');
    expect(e).to.deep.equal({ type: 'owner', data: { line: LINE, instance: 'nr-b', reason: 'lease acquired' } });
    const rec = buildRecord(e, 0, 1_000, '0'.repeat(64), keys);
    expect(rec).to.not.have.property('asset');
    expect(rec).to.not.have.property('tag');
    const checker = new ChainChecker(keys);
    expect(checker.push(JSON.stringify(rec), 1)).to.deep.equal(rec);
    expect(checker.firstBad).to.equal(undefined);
    const config = {
      envelope: { asset: 'a1', tag: 't1', min: 0, max: 10, maxStep: 1, maxRatePerMin: 10 },
      envelopeVersion: 'v1',
      signingKey: 'k'.repeat(32),
      commandTtlMs: 60_000,
      twoPersonAboveStep: 5,
      autoApproval: { enabled: false, maxStep: 0 },
    };
    const state = restoreGateState(config as never, [rec]);
    expect(state.changes.size).to.equal(0);
  });
});
