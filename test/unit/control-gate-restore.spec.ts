// The gate with its ledger (runtime/control/gate.ts + gate-restore.ts): records are durable before
// a command is emitted or a decision reported; a failed append halts the gate; a new gate built over
// the same ledger (a restart) restores pending proposals, decisions, an unanswered command (re-emitted
// unchanged while valid) and a ramp in progress, and never issues a second command for a step.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import type { Command, LedgerRecord } from '../../runtime/model/control.js';
import { Gate, type GateStateEvent, type IssuedCommand } from '../../runtime/control/gate.js';
import type { GateConfig } from '../../runtime/control/gate-state.js';
import { MemoryLedger } from '../support/control-memory-ledger.js';
import { NotifyingMemoryLedger } from '../support/control-gate-ledger.js';
import { ManualScheduler, settle } from '../support/control-manual-scheduler.js';
import { TAG, envelope, gateConfig, proposal, reading } from '../support/control-gate-fixtures.js';
import { forged, result } from '../support/control-gate-results.js';
import { KEY, result as unsignedResult } from '../support/control-gate-fixtures.js';
import { signResult } from '../../runtime/control/gate-result-signature.js';

interface Rig {
  gate: Gate;
  ledger: MemoryLedger;
  clock: ManualScheduler;
  commands: IssuedCommand[];
  events: GateStateEvent[];
  /** Ledger record count at the moment each command was emitted. */
  recordsAtEmit: number[];
}

/** 'notifying': a ledger with onAppend (the gate keeps an index of results); 'plain': without (the gate reads the ledger). */
async function rig(
  config: GateConfig = gateConfig(),
  records: LedgerRecord[] = [],
  clock = new ManualScheduler(0),
  kind: 'notifying' | 'plain' = 'notifying',
): Promise<Rig> {
  const ledger =
    kind === 'notifying' ? new NotifyingMemoryLedger(records, () => clock.now()) : new MemoryLedger(records, () => clock.now());
  const gate = await Gate.open({ config, ledger, scheduler: clock });
  const r: Rig = { gate, ledger, clock, commands: [], events: [], recordsAtEmit: [] };
  gate.commands$.subscribe((c) => {
    r.commands.push(c);
    r.recordsAtEmit.push(ledger.records.length);
  });
  gate.events$.subscribe((e) => r.events.push(e));
  void gate.start(); // its first tick settles as the settle() loop runs the clock
  for (let i = 0; i < 10; i++) await settle();
  return r;
}

async function fresh(r: Rig, tsMs = r.clock.now()): Promise<void> {
  await r.gate.reading(reading(TAG, 200, tsMs));
  await r.gate.reading(reading('mode', 1, tsMs));
}

const approve = (gate: Gate, proposalId: string, user: string) =>
  gate.decide({ proposalId, verdict: 'approve', user, printedName: user.toUpperCase(), reason: 'ok' });

describe('approval gate with its ledger', function () {
  it('appends the command record (the full signed command) before it emits the command', async function () {
    const r = await rig();
    await fresh(r);
    await r.gate.proposal(proposal('p1', 200, 203));
    const out = await approve(r.gate, 'p1', 'alice');
    expect(out).to.deep.equal({ ok: true, state: 'approved' });
    expect(r.commands).to.have.length(1);
    const cmdRec = r.ledger.records.find((x) => x.type === 'command')!;
    expect(cmdRec.data).to.deep.equal(r.commands[0]!.command);
    expect(r.recordsAtEmit[0]).to.be.greaterThan(cmdRec.seq); // it was in the ledger when the command left
    expect(r.ledger.records.map((x) => x.type)).to.deep.equal(['proposal', 'decision', 'command']);
    const decision = r.ledger.records[1]!.data as { user: string; envelopeVersion: string; state: string };
    expect(decision).to.include({ user: 'alice', envelopeVersion: gateConfig().envelopeVersion, state: 'approved' });
    // each state event carries the durable record that made it
    expect(r.events.map((e) => `${e.state}:${e.record.type}:${e.record.seq}`)).to.deep.equal([
      'pending:proposal:0',
      'approved:decision:1',
      'approved:command:2',
    ]);
  });

  for (const kind of ['notifying', 'plain'] as const) {
    it(`does not record a write result twice when the writer has recorded it; records it when it has not (${kind === 'notifying' ? 'index kept from onAppend' : 'ledger without onAppend: read'})`, async function () {
      const r = await rig(gateConfig(), [], new ManualScheduler(0), kind);
      await fresh(r);
      await r.gate.proposal(proposal('p1', 200, 210)); // ramp 205, 210
      await approve(r.gate, 'p1', 'alice');
      const c1 = r.commands[0]!.command;
      const w1 = result(c1, 'written', 1);
      // as a writer does: its own records first, then the result goes to the gate
      await r.ledger.append({
        type: 'write',
        asset: c1.asset,
        tag: c1.tag,
        proposalId: c1.proposalId,
        data: { ...w1, readBackOk: undefined },
      });
      await r.ledger.append({ type: 'readback', asset: c1.asset, tag: c1.tag, proposalId: c1.proposalId, data: w1 });
      const n = r.ledger.records.length;
      await r.gate.result(w1);
      expect(r.ledger.records.length).to.equal(n);
      expect(r.events[r.events.length - 1]!.record.seq).to.equal(n - 1); // reported with the writer's record

      await r.clock.advanceTo(30_000);
      await fresh(r);
      await r.clock.advanceTo(31_000);
      expect(r.commands.map((c) => c.command.step)).to.deep.equal([1, 2]);
      await r.gate.result(result(r.commands[1]!.command, 'written', 31_000));
      expect(r.ledger.records.length).to.equal(n + 2); // command 2 + the gate's own record of its result
      expect(r.ledger.records[r.ledger.records.length - 1]).to.include({ type: 'readback' });
      expect(r.gate.summary()).to.deep.equal({ pending: 0 });
      expect(r.gate.views()[0]).to.include({ state: 'done' });
      if (r.ledger instanceof NotifyingMemoryLedger) {
        expect(r.ledger.readAllCalls).to.equal(1); // read once at open, never per write result
        r.gate.close();
        expect(r.ledger.listenerCount).to.equal(0);
      }
    });
  }

  it("with the file ledger: learns of a writer's appends through another handle on the same file (onAppend), not by re-reading it", async function () {
    const dir = mkdtempSync(join(tmpdir(), 'gate-index-'));
    try {
      const path = join(dir, 'ledger.jsonl');
      const gateHandle = await openFileLedger(path);
      const writerHandle = await openFileLedger(path);
      let reads = 0;
      const counted = { ...gateHandle, readAll: () => (reads++, gateHandle.readAll()) };
      const clock = new ManualScheduler(Date.now());
      const gate = await Gate.open({ config: gateConfig(), ledger: counted, scheduler: clock });
      const commands: IssuedCommand[] = [];
      gate.commands$.subscribe((c) => commands.push(c));
      void gate.start();
      await gate.reading(reading(TAG, 200, clock.now()));
      await gate.reading(reading('mode', 1, clock.now()));
      await gate.proposal(proposal('p1', 200, 203, { nowMs: clock.now() }));
      await approve(gate, 'p1', 'alice');
      const c1 = commands[0]!.command;
      const w1 = result(c1, 'written', clock.now());
      await writerHandle.append({ type: 'readback', asset: c1.asset, tag: c1.tag, proposalId: c1.proposalId, data: w1 });
      const before = (await writerHandle.readAll()).length;
      expect((await gate.result(w1)).state).to.equal('done');
      expect((await writerHandle.readAll()).length).to.equal(before); // not recorded twice
      expect(reads).to.equal(1); // once, at open
      gate.close();
      // a closed handle's subscriptions end with it; the other handle keeps working
      await gateHandle.close();
      await writerHandle.append({ type: 'policy', data: { note: 'after close' } });
      await writerHandle.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records the meaning the supervisor signed with (trimmed); the standard meaning when none is given; refuses one too long', async function () {
    const r = await rig(gateConfig({ twoPersonAboveStep: 3 }));
    await fresh(r);
    await r.gate.proposal(proposal('p1', 200, 204)); // needs two approvals
    const meaning = 'Approved: I authorise 204 degC for the trial batch only';
    const first = await r.gate.decide({
      proposalId: 'p1',
      verdict: 'approve',
      user: 'alice',
      printedName: 'Alice',
      reason: 'trial',
      meaning: `  ${meaning}\n`,
    });
    expect(first).to.deep.equal({ ok: true, state: 'pending' });
    const tooLong = await r.gate.decide({
      proposalId: 'p1',
      verdict: 'approve',
      user: 'bob',
      printedName: 'Bob',
      reason: 'ok',
      meaning: 'm'.repeat(201),
    });
    expect(tooLong.ok).to.equal(false);
    expect(tooLong.error).to.match(/longer than 200/);
    const longReason = await r.gate.decide({
      proposalId: 'p1',
      verdict: 'approve',
      user: 'bob',
      printedName: 'Bob',
      reason: 'r'.repeat(1001),
    });
    expect(longReason).to.include({ ok: false, error: 'the reason is longer than 1000 characters' });
    expect(
      (await r.gate.decide({ proposalId: 'p1', verdict: 'approve', user: 'bob', printedName: 'Bob', reason: 'ok', meaning: '   ' })).ok,
    ).to.equal(true);
    const decisions = (await r.ledger.readAll())
      .filter((x) => x.type === 'decision')
      .map((x) => x.data as { user: string; meaning: string });
    expect(decisions.map((d) => [d.user, d.meaning])).to.deep.equal([
      ['alice', meaning],
      ['bob', 'Approved: I authorise this setpoint change'],
    ]);
    // the page sees the meaning as recorded, and a restart restores it from the ledger
    expect(r.gate.views()[0]!.decisions.map((d) => d.meaning)).to.deep.equal([meaning, 'Approved: I authorise this setpoint change']);
    r.gate.close();
    const b = await rig(gateConfig({ twoPersonAboveStep: 3 }), r.ledger.records, new ManualScheduler(1_000));
    expect(b.gate.views()[0]!.decisions.map((d) => d.meaning)).to.deep.equal([meaning, 'Approved: I authorise this setpoint change']);
  });

  it('ignores a forged or unsigned "written" result: recorded as refused, the ramp does not advance, also not after a restart', async function () {
    // fast pacing: step 2 would be due 500 ms after step 1's result, well inside step 1's 10 s validity
    const cfg = gateConfig({}, envelope({ minDwellMs: 0, rateUpPerMin: 600 }));
    const r = await rig(cfg);
    await fresh(r);
    await r.gate.proposal(proposal('p1', 200, 210)); // ramp 205, 210
    await approve(r.gate, 'p1', 'alice');
    const c1 = r.commands[0]!.command;
    const genuine = result(c1, 'written', 1);
    const { signature: _s, ...unsigned } = genuine;
    for (const fake of [forged(genuine), unsigned, { ...genuine, value: 205, readBackValue: 204 }, { ...genuine, signature: 'zz' }]) {
      const out = await r.gate.result(fake);
      expect(out).to.include({ ok: false, refused: true });
      expect(out.error).to.match(/not signed|does not verify/);
    }
    const refused = r.ledger.records.filter((x) => x.type === 'refused');
    expect(refused).to.have.length(4);
    expect(refused[0]).to.include({ asset: c1.asset, tag: c1.tag }).and.not.have.property('proposalId');
    expect(refused[0]!.data).to.deep.include({ refusal: 'BAD_SIGNATURE', received: forged(genuine) });
    // the step is still in flight: no step 2, although it would long have been due after a real result
    await r.clock.advanceTo(2_000);
    await fresh(r);
    await r.clock.advanceTo(4_000);
    expect(r.commands).to.have.length(1);
    expect(r.gate.views()[0]).to.include({ state: 'approved' });
    // a restart from this ledger does not take the refused record for a result either: c1 is re-sent
    r.gate.close();
    const b = await rig(cfg, r.ledger.records, new ManualScheduler(5_000));
    expect(b.commands.map((c) => [c.command.id, c.replay])).to.deep.equal([[c1.id, true]]);
    // the genuine result, signed by the writer, completes step 1
    expect((await b.gate.result(genuine)).ok).to.equal(true);
    expect(b.ledger.records.at(-1)).to.include({ type: 'readback' });
  });

  it('halts when an append fails: no command, no decision reported as taken', async function () {
    const r = await rig();
    await fresh(r);
    await r.gate.proposal(proposal('p1', 200, 203));
    const errors: Error[] = [];
    r.gate.errors$.subscribe((e) => errors.push(e));
    r.ledger.failNext = new Error('ENOSPC: no space left on device');
    const out = await approve(r.gate, 'p1', 'alice');
    expect(out.ok).to.equal(false);
    expect(out.error).to.match(/halted.*ENOSPC/);
    expect(r.commands).to.have.length(0);
    expect(errors.map((e) => e.message)).to.deep.equal(['ENOSPC: no space left on device']);
    expect((await r.gate.proposal(proposal('p2', 200, 201))).ok).to.equal(false);
    expect(r.gate.views().map((v) => v.state)).to.deep.equal(['pending']); // the page never saw the approval
  });

  describe('restart from the ledger', function () {
    it('keeps a pending proposal pending (with its first approval) until its expiry', async function () {
      const cfg = gateConfig({ twoPersonAboveStep: 3 });
      const a = await rig(cfg);
      await fresh(a);
      await a.gate.proposal(proposal('p1', 200, 204, { ttlMs: 100_000 }));
      expect(await approve(a.gate, 'p1', 'alice')).to.deep.equal({ ok: true, state: 'pending' });
      a.gate.close();

      const clock = new ManualScheduler(50_000);
      const b = await rig(cfg, a.ledger.records, clock);
      await fresh(b);
      expect(b.gate.views().map((v) => [v.state, v.decisions.length, v.requiredApprovals])).to.deep.equal([['pending', 1, 2]]);
      expect((await approve(b.gate, 'p1', 'alice')).error).to.match(/already approved/);
      await clock.advanceTo(100_000);
      expect(b.gate.views()[0]!.state).to.equal('expired');
      expect(b.ledger.records.map((x) => x.type)).to.deep.equal(['proposal', 'decision', 'expired']);
      expect(b.commands).to.have.length(0);
    });

    it('re-emits an issued command without a write result unchanged while it is valid; no second command record', async function () {
      const a = await rig();
      await fresh(a);
      await a.gate.proposal(proposal('p1', 200, 203));
      await approve(a.gate, 'p1', 'alice');
      const issued = a.commands[0]!.command;
      a.gate.close(); // "killed" between the command and its write result

      const b = await rig(gateConfig(), a.ledger.records, new ManualScheduler(5_000));
      expect(b.commands).to.have.length(1);
      expect(b.commands[0]).to.deep.equal({ command: issued, replay: true });
      expect(b.ledger.records.filter((x) => x.type === 'command')).to.have.length(1);
      await b.gate.result(result(issued, 'written', 5_001));
      expect(b.gate.views()[0]!.state).to.equal('done');
    });

    it('knows a write result the writer appended while the gate was reading the ledger on restart (not recorded twice)', async function () {
      const a = await rig();
      await fresh(a);
      await a.gate.proposal(proposal('p1', 200, 203));
      await approve(a.gate, 'p1', 'alice');
      const c1 = a.commands[0]!.command;
      a.gate.close();

      const clock = new ManualScheduler(2_000);
      const ledger = new NotifyingMemoryLedger(a.ledger.records, () => clock.now());
      // a slow read: the ledger is read before the writer's append lands, and returned after it did
      let appended: Promise<unknown> = Promise.resolve();
      const read = ledger.readAll.bind(ledger);
      ledger.readAll = async () => {
        const snapshot = await read();
        await appended;
        return snapshot;
      };
      const opening = Gate.open({ config: gateConfig(), ledger, scheduler: clock });
      // the writer, still busy with c1, records its read-back while the restarted gate reads the ledger
      const w1 = result(c1, 'written', 1_500);
      appended = ledger.append({ type: 'readback', asset: c1.asset, tag: c1.tag, proposalId: c1.proposalId, data: w1 });
      const gate = await opening;
      expect(gate.views()[0]!.state).to.equal('approved'); // it did not see the read-back in what it read
      const events: GateStateEvent[] = [];
      gate.events$.subscribe((e) => events.push(e));
      void gate.start();
      for (let i = 0; i < 10; i++) await settle();
      const n = ledger.records.length;
      expect((await gate.result(w1)).state).to.equal('done');
      expect(ledger.records.length).to.equal(n); // the writer's record is the record of it
      expect(events.at(-1)!.record).to.include({ type: 'readback', seq: n - 1 });
      gate.close();
    });

    it('records an issued command that expired during the restart as failed, and does not emit it', async function () {
      const a = await rig();
      await fresh(a);
      await a.gate.proposal(proposal('p1', 200, 203));
      await approve(a.gate, 'p1', 'alice');
      a.gate.close();

      const b = await rig(gateConfig(), a.ledger.records, new ManualScheduler(60_000));
      expect(b.commands).to.have.length(0);
      const last = b.ledger.records[b.ledger.records.length - 1]!;
      expect(last).to.include({ type: 'expired' });
      expect(last.data).to.include({ state: 'failed', commandId: a.commands[0]!.command.id });
      expect(b.gate.views()[0]!.state).to.equal('failed');
    });

    /** Step 1 of a 3-step ramp issued, the writer's write-ahead intent recorded, then the process died. */
    async function killedAfterIntent(): Promise<{ a: Rig; c1: Command }> {
      const a = await rig();
      await fresh(a);
      await a.gate.proposal(proposal('p1', 200, 212)); // ramp 204, 208, 212
      await approve(a.gate, 'p1', 'alice');
      const c1 = a.commands[0]!.command;
      await a.ledger.append({
        type: 'write-intent',
        asset: c1.asset,
        tag: c1.tag,
        proposalId: c1.proposalId,
        data: { commandId: c1.id, value: c1.value, presentValue: 200 },
      });
      a.gate.close();
      return { a, c1 };
    }

    it('re-sends a command that expired during the restart while it still waits for its result (the grace): a writer settles it; a write-intent is not a result', async function () {
      const { a, c1 } = await killedAfterIntent();
      const atKill = [...a.ledger.records];
      // 12 s: past the command's expiry (10 s), inside the grace (5 s more)
      const clock = new ManualScheduler(12_000);
      const b = await rig(gateConfig(), a.ledger.records, clock);
      expect(b.commands).to.deep.equal([{ command: c1, replay: true }]);
      expect(b.gate.views()[0]!.state).to.equal('approved');
      // the writer found the plant holding 204: settled as written and read back; the ramp goes on
      await b.gate.result(result(c1, 'written', 12_001));
      expect(b.gate.views()[0]!.state).to.equal('approved');
      await fresh(b);
      await clock.advanceTo(42_010); // dwell 30 s after the settled result
      expect(b.commands.map((c) => [c.command.step, c.command.value, c.command.fromValue, c.replay])).to.deep.equal([
        [1, 204, 200, true],
        [2, 208, 204, false],
      ]);
      // past the grace nothing is re-sent: the gate records the command as expired without a result
      const c = await rig(gateConfig(), atKill, new ManualScheduler(15_000));
      expect(c.commands).to.have.length(0);
      expect(c.ledger.records.at(-1)).to.include({ type: 'expired' });
    });

    it("a result settled as 'unknown' (the plant could not be read after the restart) fails the change: no further step, also after another restart", async function () {
      const { a, c1 } = await killedAfterIntent();
      const clock = new ManualScheduler(5_000);
      const b = await rig(gateConfig(), a.ledger.records, clock);
      expect(b.commands.map((c) => c.replay)).to.deep.equal([true]);
      const unknown = signResult(KEY, {
        ...unsignedResult(c1, 'unknown', 5_001),
        reason: 'the plant could not be read after a restart (BadSensorFailure)',
      });
      expect((await b.gate.result(unknown)).ok).to.equal(true);
      expect(b.gate.views()[0]).to.include({ state: 'failed' });
      expect(b.gate.views()[0]!.reason).to.match(/^step 1: unknown: the plant could not be read/);
      await fresh(b);
      await clock.advanceTo(200_000);
      expect(b.commands).to.have.length(1);
      b.gate.close();
      const c = await rig(gateConfig(), b.ledger.records, new ManualScheduler(210_000));
      expect(c.gate.views()[0]!.state).to.equal('failed');
      expect(c.commands).to.have.length(0);
    });

    it('continues a ramp after a restart from the written step (re-checked at write time); the written step is never issued again', async function () {
      const a = await rig();
      await fresh(a);
      await a.gate.proposal(proposal('p1', 200, 212));
      await approve(a.gate, 'p1', 'alice');
      const c1 = a.commands[0]!.command;
      await a.gate.result(result(c1, 'written', 10));
      a.gate.close();

      const clock = new ManualScheduler(20_000);
      const b = await rig(gateConfig(), a.ledger.records, clock);
      expect(b.commands).to.have.length(0); // step 1 answered: nothing to re-emit; step 2 not due before 30 s after its write
      await fresh(b);
      await clock.advanceTo(30_010);
      expect(b.commands.map((c) => [c.command.step, c.command.steps, c.command.value, c.command.fromValue, c.replay])).to.deep.equal([
        [2, 3, 208, 204, false],
      ]);
      const ids = b.ledger.records.filter((x) => x.type === 'command').map((x) => (x.data as Command).id);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('an approved change not yet issued continues after a restart, with the write-time re-check (blocked on a failing interlock)', async function () {
      const a = await rig();
      await a.gate.reading(reading(TAG, 200, 0));
      await a.gate.reading(reading('mode', 1, 0));
      await a.gate.proposal(proposal('p1', 200, 202));
      await approve(a.gate, 'p1', 'alice');
      await a.gate.result(result(a.commands[0]!.command, 'written', 1));
      await a.gate.proposal(proposal('p2', 202, 204));
      await approve(a.gate, 'p2', 'bob'); // waits for the dwell
      expect(a.commands).to.have.length(1);
      a.gate.close();

      const clock = new ManualScheduler(10_000);
      const b = await rig(gateConfig(), a.ledger.records, clock);
      await b.gate.reading(reading(TAG, 202, 10_000));
      await b.gate.reading(reading('mode', 0, 10_000)); // the line left AUTO
      await clock.advanceTo(31_000);
      expect(b.commands).to.have.length(0);
      const last = b.ledger.records[b.ledger.records.length - 1]!;
      expect(last).to.include({ type: 'blocked', proposalId: 'p2' });
      expect(JSON.stringify(last.data)).to.match(/INTERLOCK/);
    });

    it('keeps an auto-approval switched off by a supervisor off after a restart', async function () {
      const cfg = gateConfig({ autoApproval: { enabled: true, maxStep: 2 } });
      const a = await rig(cfg);
      expect(a.gate.autoApprovalOn()).to.equal(true);
      expect(await a.gate.setAutoApproval(false, 'alice', '  end of the trial ')).to.deep.equal({ ok: true });
      a.gate.close();
      const b = await rig(cfg, a.ledger.records);
      expect(b.gate.autoApprovalOn()).to.equal(false);
      const pol = b.ledger.records.find((x) => x.type === 'policy')!;
      expect(pol.data).to.include({ enabled: false, user: 'alice', reason: 'end of the trial' });
      // without a reason (a flow may give none) the record has none
      expect(await b.gate.setAutoApproval(true, 'bob')).to.deep.equal({ ok: true });
      const last = b.ledger.records[b.ledger.records.length - 1]!;
      expect(last).to.include({ type: 'policy' });
      expect(last.data).to.include({ enabled: true, user: 'bob' }).and.not.have.property('reason');
    });

    it('ignores the records of other setpoints in a shared ledger', async function () {
      const a = await rig();
      await fresh(a);
      await a.gate.proposal(proposal('p1', 200, 203));
      a.gate.close();
      const other = gateConfig({}, { ...gateConfig().envelope, tag: 'screw_rpm' });
      const b = await rig(other, a.ledger.records);
      expect(b.gate.views()).to.deep.equal([]);
    });
  });

  it('views: trend of the setpoint and KPI thinned to the spacing and the window; the envelope as of now', async function () {
    const r = await rig();
    for (let t = 0; t <= 40 * 60_000; t += 1_000) {
      await r.clock.advanceTo(t); // the gate refuses readings dated ahead of its clock
      await r.gate.reading(reading(TAG, 200 + (t % 7), t));
      await r.gate.reading(reading('energy_per_kg', 1 + t / 1e7, t));
    }
    await r.clock.advanceTo(40 * 60_000);
    await r.gate.reading(reading('mode', 1, 40 * 60_000));
    await r.gate.proposal(proposal('p1', 200, 203, { nowMs: 40 * 60_000 }));
    await r.gate.reading(reading('energy_per_kg', 1.5, 40 * 60_000 + 500));
    const [v] = r.gate.views();
    expect(v!.envelope.ok).to.equal(true);
    expect(v!.requiredApprovals).to.equal(1);
    const sp = v!.trend.setpoint;
    expect(sp[0]!.tsMs).to.be.at.least(10 * 60_000); // last 30 min only
    for (let i = 1; i < sp.length - 1; i++) expect(sp[i]!.tsMs - sp[i - 1]!.tsMs).to.be.at.least(10_000);
    expect(sp.length).to.be.within(150, 200);
    expect(sp[sp.length - 1]!.tsMs).to.equal(40 * 60_000); // ends at the newest reading
    // the KPI the proposal names, with its history from before the proposal arrived, ending at the newest value
    const kpi = v!.trend.kpi;
    expect(kpi.length).to.be.within(150, 200);
    expect(kpi[kpi.length - 1]).to.deep.equal({ tsMs: 40 * 60_000 + 500, value: 1.5 });
  });

  it('a decision stands: the same from → to under the same envelope is not put up again, also after a restart, until another change is written', async function () {
    const r = await rig();
    await fresh(r);
    await r.gate.proposal(proposal('p1', 200, 203));
    await r.gate.decide({ proposalId: 'p1', verdict: 'reject', user: 'bob', printedName: 'BOB', reason: 'not now' });
    const n = r.ledger.records.length;
    // the proposer makes the same proposal anew: answered, not recorded, not on the page
    expect(await r.gate.proposal(proposal('p1-again', 200, 203))).to.deep.equal({ ok: true, state: 'rejected', duplicateOf: 'p1' });
    expect(r.ledger.records.length).to.equal(n);
    r.gate.close();

    // restarted: the state comes from the ledger
    const later = await rig(gateConfig(), r.ledger.records, new ManualScheduler(1000));
    expect(await later.gate.proposal(proposal('p1-restart', 200, 203, { nowMs: 1000 }))).to.deep.include({ duplicateOf: 'p1' });
    expect(later.gate.views().filter((v) => v.state === 'pending')).to.deep.equal([]);
    // another value is another proposal; approved and written, it changes the situation the rejection was about
    await fresh(later);
    expect(await later.gate.proposal(proposal('p2', 200, 202, { nowMs: 1000 }))).to.deep.equal({ ok: true, state: 'pending' });
    await approve(later.gate, 'p2', 'alice');
    for (let i = 0; i < 10; i++) await settle();
    expect(later.commands.map((c) => c.command.proposalId)).to.deep.equal(['p2']);
    expect(await later.gate.proposal(proposal('p1-after', 200, 203, { nowMs: 1000 }))).to.deep.equal({ ok: true, state: 'pending' });

    // under another envelope version the rejection no longer stands
    const other = await rig(gateConfig({}, envelope({ highLimit: 230 })), r.ledger.records, new ManualScheduler(1000));
    expect(await other.gate.proposal(proposal('p1-new-envelope', 200, 203, { nowMs: 1000 }))).to.deep.equal({ ok: true, state: 'pending' });
  });
});
