// Model-based property tests (fast-check) of the approval gate with its ledger, a restartable
// process and a writer with a single-use store. Whatever the sequence of proposals, decisions by
// various users, readings (fresh, stale, bad, interlock off), policy switches, passing time, write
// outcomes (written, read-back mismatch, refused, failed, lost, crashes after the claim, after the
// write-ahead intent and after the write), replays of commands and results, and restarts (a new gate
// over the same ledger):
//   (a) no command the gate emits lies outside the envelope, judged against the plant's TRUE value,
//       the true time of the last write and the readings the gate was given;
//   (b) no command is emitted without the approvals the rules require, recorded in the ledger before it;
//   (c) no step gets two different commands, a re-emitted command is identical to the recorded one,
//       no new command is emitted while an earlier one could still be executed, and no command id is
//       executed twice;
//   (d) the writer's account matches the plant: a command re-sent after a crash is settled from the
//       plant (runtime/control/writer.ts), never written again, and the first result for a command
//       that reached the plant says written (the finding of the crash test: no longer "failed" or
//       REPLAYED for a write the plant took).
import { expect } from 'chai';
import fc from 'fast-check';
import type { Command, Decision, LedgerRecord, Proposal, WriteResult } from '../../runtime/model/control.js';
import type { Reading } from '../../runtime/model/reading.js';
import { canonicalJson } from '../../runtime/control/canonical.js';
import { verifyCommand } from '../../runtime/control/command.js';
import { signResult } from '../../runtime/control/gate-result-signature.js';
import { checkEnvelope, readingKey } from '../../runtime/control/envelope.js';
import { Gate } from '../../runtime/control/gate.js';
import { POLICY_USER, type GateConfig } from '../../runtime/control/gate-state.js';
import { MemoryLedger } from '../support/control-memory-ledger.js';
import { NotifyingMemoryLedger } from '../support/control-gate-ledger.js';
import { ManualScheduler, settle } from '../support/control-manual-scheduler.js';
import { ASSET, KEY, TAG, envelope, gateConfig, proposal } from '../support/control-gate-fixtures.js';

/**
 * What the writer does with the next queued command. For a command it must settle after a crash,
 * 'fail' means the plant cannot be read (outcome unknown); any other value reads the plant.
 */
type WriteOutcome = 'ok' | 'readbackMismatch' | 'refuse' | 'fail' | 'lost' | 'crashAfterClaim' | 'crashAfterIntent' | 'crashAfterWrite';

type Action =
  | { kind: 'propose'; delta: number; offset: number; ttlMs: number; quality: 'good' | 'uncertain' | 'bad' }
  | { kind: 'decide'; pick: number; user: string; verdict: 'approve' | 'reject' }
  | { kind: 'reading'; tag: string; ageMs: number; quality: 'good' | 'uncertain' | 'bad'; mode: number }
  /** `report`: the plant reports its setpoint and mode (fresh, good) after the time passed. */
  | { kind: 'advance'; ms: number; report: boolean }
  | { kind: 'write'; outcome: WriteOutcome; recordInLedger: boolean }
  | { kind: 'replayCommand'; pick: number }
  | { kind: 'replayResult'; pick: number }
  | { kind: 'policy'; enabled: boolean }
  /** A 'written' result nobody with the key signed (forged, unsigned or altered) for a command the gate issued. */
  | { kind: 'forgeResult'; pick: number; how: 'forged' | 'unsigned' | 'altered' }
  | { kind: 'restart' };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('propose' as const),
      delta: fc.integer({ min: -9, max: 9 }),
      offset: fc.constantFrom(0, 0, 0, 0, 0, 2, -3, 45),
      ttlMs: fc.constantFrom(5_000, 120_000, 300_000, 300_000),
      quality: fc.constantFrom('good', 'good', 'good', 'good', 'good', 'uncertain', 'bad') as fc.Arbitrary<'good' | 'uncertain' | 'bad'>,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      pick: fc.nat(),
      user: fc.constantFrom('alice', 'bob', 'carol'),
      verdict: fc.constantFrom('approve', 'approve', 'approve', 'approve', 'approve', 'approve', 'approve', 'reject') as fc.Arbitrary<
        'approve' | 'reject'
      >,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('reading' as const),
      tag: fc.constantFrom(TAG, TAG, 'mode'),
      ageMs: fc.constantFrom(0, 0, 0, 0, 2_000, 70_000),
      quality: fc.constantFrom('good', 'good', 'good', 'good', 'good', 'good', 'uncertain', 'bad') as fc.Arbitrary<
        'good' | 'uncertain' | 'bad'
      >,
      mode: fc.constantFrom(1, 1, 1, 0),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(1, 500, 5_000, 16_000, 31_000, 61_000),
      report: fc.constantFrom(true, true, false),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      outcome: fc.constantFrom(
        'ok',
        'ok',
        'ok',
        'readbackMismatch',
        'refuse',
        'fail',
        'lost',
        'crashAfterClaim',
        'crashAfterIntent',
        'crashAfterWrite',
        'crashAfterWrite',
      ) as fc.Arbitrary<WriteOutcome>,
      recordInLedger: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replayCommand' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replayResult' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('policy' as const), enabled: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('forgeResult' as const),
      pick: fc.nat(),
      how: fc.constantFrom('forged', 'unsigned', 'altered') as fc.Arbitrary<'forged' | 'unsigned' | 'altered'>,
    }),
  },
);

const configArb: fc.Arbitrary<GateConfig> = fc
  .record({ twoPerson: fc.constantFrom(Infinity, 3), auto: fc.boolean(), ramp: fc.constantFrom(true, true, true, false) })
  .map(({ twoPerson, auto, ramp }) =>
    gateConfig(
      { twoPersonAboveStep: twoPerson, autoApproval: auto ? { enabled: true, maxStep: 2 } : { enabled: false, maxStep: 0 } },
      envelope({ ramp }),
    ),
  );

/** The world around the gate: the plant, the writer with its single-use store, what people did. */
class World {
  plant = 200;
  /** True time of the last write that reached the plant. */
  lastWriteMs: number | undefined;
  readings = new Map<string, Reading>();
  used = new Set<string>();
  /** The writer's write-ahead records and its final results (both in the ledger: they survive restarts). */
  intents: string[] = [];
  finals = new Set<string>();
  /** The first result the writer gave for each command (property d). */
  firstResult = new Map<string, WriteResult>();
  settled = { written: 0, failed: 0, unknown: 0 };
  executions = new Map<string, number>();
  queue: Command[] = [];
  emitted: Array<{ command: Command; replay: boolean; atMs: number }> = [];
  results: WriteResult[] = [];
  answered = new Set<string>();
  stepIds = new Map<string, string>();
  idBody = new Map<string, string>();
  proposals: Proposal[] = [];
  humanDecisions = new Set<string>();
  clock = new ManualScheduler(1_000_000);
  records: LedgerRecord[] = [];
  ledger!: MemoryLedger;
  gate!: Gate;
  n = 0;

  /** `notifying`: a ledger with onAppend (the gate indexes results); else the gate reads the ledger for each result. */
  constructor(
    readonly config: GateConfig,
    readonly notifying = true,
  ) {}

  async open(): Promise<void> {
    this.ledger = this.notifying
      ? new NotifyingMemoryLedger(this.records, () => this.clock.now())
      : new MemoryLedger(this.records, () => this.clock.now());
    this.gate = await Gate.open({ config: this.config, ledger: this.ledger, scheduler: this.clock });
    this.gate.commands$.subscribe(({ command, replay }) => this.onCommand(command, replay));
    void this.gate.start(); // settles with its first tick, which the settle() loop lets run
    for (let i = 0; i < 5; i++) await settle();
  }

  /** An assertion failing inside an RxJS subscriber would be reported asynchronously: keep it for the run. */
  failure: Error | undefined;

  onCommand(c: Command, replay: boolean): void {
    try {
      this.checkCommand(c, replay);
    } catch (err) {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    }
    this.emitted.push({ command: c, replay, atMs: this.clock.now() });
    this.queue.push(c);
  }

  /** Every property is checked at the moment a command leaves the gate. */
  checkCommand(c: Command, replay: boolean): void {
    const nowMs = this.clock.now();
    const env = this.config.envelope;
    // (c) one id per step, one body per id
    const stepKey = `${c.proposalId}#${c.step}`;
    const prevId = this.stepIds.get(stepKey);
    expect(prevId === undefined || prevId === c.id, `a second command for step ${stepKey}`).to.equal(true);
    this.stepIds.set(stepKey, c.id);
    const body = canonicalJson(c);
    expect(this.idBody.get(c.id) ?? body, `command ${c.id} re-emitted changed`).to.equal(body);
    this.idBody.set(c.id, body);
    // durable before emitted
    const rec = this.records.find((r) => r.type === 'command' && (r.data as Command).id === c.id);
    expect(rec, 'command emitted before it was recorded').to.not.equal(undefined);
    expect(canonicalJson(rec!.data)).to.equal(body);
    expect(verifyCommand(KEY, c, { asset: ASSET, tag: TAG }, nowMs).ok).to.equal(true);

    if (!replay) {
      // (c) nothing else executable meanwhile: every earlier command is answered or expired
      for (const e of this.emitted) {
        if (e.command.id !== c.id && !this.answered.has(e.command.id))
          expect(nowMs, `command ${c.id} while ${e.command.id} could still run`).to.be.greaterThan(e.command.expiresTsMs);
      }
      // (a) the envelope against the truth: the plant's value, the last real write, the readings given
      const check = checkEnvelope(env, {
        fromValue: this.plant,
        toValue: c.value,
        lastChangeTsMs: this.lastWriteMs,
        nowMs,
        readings: this.readings,
        scope: 'step',
      });
      expect(check.violations, `command ${c.value} from plant ${this.plant} at ${nowMs}`).to.deep.equal([]);
      expect(c.fromValue).to.equal(this.plant);
      // (b) the approvals, as recorded before the command
      this.checkApprovals(c, rec!.seq);
    }
  }

  checkApprovals(c: Command, cmdSeq: number): void {
    const before = this.records.filter((r) => r.seq < cmdSeq && r.proposalId === c.proposalId);
    const p = before.find((r) => r.type === 'proposal')?.data as Proposal | undefined;
    expect(p, `command for an unrecorded proposal ${c.proposalId}`).to.not.equal(undefined);
    const ended = before.find(
      (r) => ['superseded', 'expired', 'blocked'].includes(r.type) || (r.type === 'decision' && (r.data as Decision).verdict === 'reject'),
    );
    expect(ended, `command after ${ended?.type}`).to.equal(undefined);
    const decisionRecs = before.filter((r) => r.type === 'decision');
    const approvals = decisionRecs.map((r) => r.data as Decision);
    const users = new Set(approvals.map((d) => d.user));
    expect(users.size, 'the same user counted twice').to.equal(approvals.length);
    const size = Math.abs(p!.proposedValue - p!.currentValue);
    const need = size > this.config.twoPersonAboveStep ? 2 : 1;
    expect(approvals.length, `approvals for a change of ${size}`).to.be.at.least(need);
    for (const [i, d] of approvals.entries()) {
      expect(d.tsMs).to.be.lessThan(p!.expiresTsMs);
      if (d.user === POLICY_USER) {
        expect(this.config.autoApproval.enabled).to.equal(true);
        expect(size).to.be.at.most(this.config.autoApproval.maxStep);
        expect(p!.quality).to.equal('good');
        const lastPolicy = this.records.filter((r) => r.type === 'policy' && r.seq < decisionRecs[i]!.seq).pop();
        expect(lastPolicy === undefined || (lastPolicy.data as { enabled: boolean }).enabled).to.equal(true);
      } else {
        expect(this.humanDecisions.has(`${d.proposalId}|${d.user}|${d.verdict}`), `a decision nobody made: ${d.user}`).to.equal(true);
      }
    }
  }

  async deliver(r: WriteResult, recordInLedger: boolean): Promise<void> {
    // A refusal of a copy of a command whose result the writer has recorded (REPLAYED, or EXPIRED for
    // a late copy) is no account of the write: the recorded result is.
    const replayed = r.outcome === 'refused' && /REPLAYED/.test(r.reason ?? '');
    const first = !replayed && !this.finals.has(r.commandId);
    if (!replayed) this.finals.add(r.commandId);
    if (first) {
      this.firstResult.set(r.commandId, r);
      // (d) a write the plant took is never first reported as not written (failed, refused): written, or unknown when the plant cannot tell
      if (this.executions.has(r.commandId))
        expect(r.outcome, `command ${r.commandId} reached the plant, first result ${r.outcome} ${r.reason ?? ''}`).to.be.oneOf([
          'written',
          'unknown',
        ]);
    }
    if (recordInLedger)
      await this.ledger.append({
        type: r.readBackOk !== undefined ? 'readback' : r.outcome === 'refused' ? 'refused' : 'write',
        asset: r.asset,
        tag: r.tag,
        proposalId: r.proposalId,
        data: r,
      });
    this.results.push(r);
    this.answered.add(r.commandId);
    await this.gate.result(r);
  }

  async write(outcome: WriteOutcome, recordInLedger: boolean): Promise<void> {
    const c = this.queue.shift();
    if (!c) return;
    const nowMs = this.clock.now();
    // as a writer sends it: signed with the gate's key
    const res = (o: WriteResult['outcome'], extra: Partial<WriteResult> = {}): WriteResult =>
      signResult(KEY, {
        commandId: c.id,
        proposalId: c.proposalId,
        asset: c.asset,
        tag: c.tag,
        value: c.value,
        outcome: o,
        writer: 'w',
        tsMs: nowMs,
        ...extra,
      });
    const v = verifyCommand(KEY, c, { asset: ASSET, tag: TAG }, nowMs);
    // As writer.ts: a command claimed before (a crash) with no final result is settled from the plant,
    // expired or not, and never written again.
    if (this.used.has(c.id) && !this.finals.has(c.id) && (v.ok || v.refusal === 'EXPIRED')) {
      let r: WriteResult;
      const at = this.intents.indexOf(c.id);
      if (at < 0) r = res('failed', { reason: 'not written before the crash (no write intent)' });
      else if (at < this.intents.length - 1) r = res('unknown', { reason: 'the setpoint was written again since' });
      else if (outcome === 'fail') r = res('unknown', { reason: 'the plant could not be read after a restart' });
      else if (this.plant === c.value) r = res('written', { readBackOk: true, readBackValue: this.plant });
      else r = res('failed', { reason: `not written before the crash: the plant holds ${this.plant}` });
      this.settled[r.outcome === 'written' ? 'written' : r.outcome === 'unknown' ? 'unknown' : 'failed']++;
      // (d) the account matches the plant: written exactly when it holds the value
      expect(r.outcome === 'written', `settled ${c.id} as ${r.outcome}, plant ${this.plant}, value ${c.value}`).to.equal(
        r.outcome !== 'unknown' && at >= 0 && this.plant === c.value,
      );
      return this.deliver(r, recordInLedger);
    }
    if (!v.ok) return this.deliver(res('refused', { reason: v.refusal }), recordInLedger);
    if (this.used.has(c.id)) return this.deliver(res('refused', { reason: 'REPLAYED' }), recordInLedger);
    this.used.add(c.id); // claim before the write (and before the writer's own envelope check, as writer.ts does)
    if (outcome === 'crashAfterClaim') return this.restart();
    if (outcome === 'refuse') return this.deliver(res('refused', { reason: 'OUTSIDE_ENVELOPE' }), recordInLedger);
    if (outcome === 'fail') return this.deliver(res('failed', { reason: 'BadOutOfService' }), recordInLedger);
    this.intents.push(c.id); // the write-ahead record, durable before the write
    if (outcome === 'crashAfterIntent') return this.restart();
    this.executions.set(c.id, (this.executions.get(c.id) ?? 0) + 1);
    expect(this.executions.get(c.id), `command ${c.id} executed twice`).to.equal(1);
    this.lastWriteMs = nowMs;
    if (outcome === 'readbackMismatch')
      return this.deliver(res('written', { readBackOk: false, readBackValue: this.plant }), recordInLedger);
    this.plant = c.value;
    if (outcome === 'lost') {
      this.finals.add(c.id); // recorded by the writer, lost on its way to the gate
      return;
    }
    if (outcome === 'crashAfterWrite') return this.restart();
    return this.deliver(res('written', { readBackOk: true, readBackValue: c.value }), recordInLedger);
  }

  async restart(): Promise<void> {
    this.gate.close();
    this.queue = []; // the process died: whatever was on its way is gone
    // The envelope is judged on the readings the running gate was given: a restarted gate starts with none.
    this.readings.clear();
    await this.open();
  }

  reading(tag: string, ageMs: number, quality: Reading['quality'], mode: number): Promise<unknown> {
    const r: Reading = {
      asset: ASSET,
      tag,
      value: tag === TAG ? this.plant : mode,
      tsMs: this.clock.now() - ageMs,
      quality,
      source: 'sim',
    };
    const key = readingKey(ASSET, tag);
    const prev = this.readings.get(key);
    if (!prev || prev.tsMs <= r.tsMs) this.readings.set(key, r);
    return this.gate.reading(r);
  }

  async run(a: Action): Promise<void> {
    switch (a.kind) {
      case 'propose': {
        const from = this.plant + (a.offset === 45 ? 0 : a.offset);
        const to = a.offset === 45 ? 245 : from + a.delta;
        const p = proposal(`p${++this.n}`, from, to, { nowMs: this.clock.now(), ttlMs: a.ttlMs, quality: a.quality });
        const out = await this.gate.proposal(p);
        if (out.ok)
          this.proposals.push(p); // people decide on what the page shows
        else expect(p.quality).to.equal('bad');
        break;
      }
      case 'decide': {
        if (this.proposals.length === 0) return;
        // mostly the newest proposal (the one that can still be open), sometimes an old one
        const p = this.proposals[a.pick % 6 === 0 ? a.pick % this.proposals.length : this.proposals.length - 1]!;
        this.humanDecisions.add(`${p.id}|${a.user}|${a.verdict}`);
        await this.gate.decide({ proposalId: p.id, verdict: a.verdict, user: a.user, printedName: a.user, reason: 'property test' });
        break;
      }
      case 'reading':
        await this.reading(a.tag, a.ageMs, a.quality, a.mode);
        break;
      case 'advance':
        await this.clock.advanceBy(a.ms);
        if (a.report) {
          await this.reading(TAG, 0, 'good', 1);
          await this.reading('mode', 0, 'good', 1);
        }
        break;
      case 'write':
        await this.write(a.outcome, a.recordInLedger);
        break;
      case 'replayCommand':
        if (this.emitted.length) this.queue.unshift(this.emitted[a.pick % this.emitted.length]!.command);
        break;
      case 'replayResult':
        if (this.results.length) await this.gate.result(this.results[a.pick % this.results.length]!);
        break;
      case 'policy':
        await this.gate.setAutoApproval(a.enabled, 'alice');
        break;
      case 'forgeResult': {
        // mostly the command the gate is waiting for (the one a forger would want to close)
        const target = this.queue[0] ?? this.emitted.at(-1)?.command;
        if (!target) return;
        const c = a.pick % 3 === 0 && this.emitted.length ? this.emitted[a.pick % this.emitted.length]!.command : target;
        const base = {
          commandId: c.id,
          proposalId: c.proposalId,
          asset: c.asset,
          tag: c.tag,
          value: c.value,
          outcome: 'written' as const,
          readBackOk: true,
          readBackValue: c.value,
          writer: 'forger',
          tsMs: this.clock.now(),
        };
        const fake: WriteResult =
          a.how === 'forged'
            ? signResult('a-forger-key-that-is-long-enough', base)
            : a.how === 'unsigned'
              ? base
              : { ...signResult(KEY, { ...base, readBackOk: false }), readBackOk: true };
        const n = this.records.length;
        const out = await this.gate.result(fake);
        // never acted on; recorded as a refusal (the gate may also have recorded time passing first)
        expect(out.ok, 'a forged write result was accepted').to.equal(false);
        const last = this.records.at(-1);
        if (!this.gate.halted) {
          expect(this.records.length).to.be.greaterThan(n);
          expect(last?.type).to.equal('refused');
          expect((last?.data as { refusal?: string }).refusal).to.equal('BAD_SIGNATURE');
        }
        // NOT marked answered: property (c) then catches a next step issued on the strength of it
        break;
      }
      case 'restart':
        await this.restart();
        break;
    }
    for (let i = 0; i < 3; i++) await settle();
  }
}

describe('approval gate properties (fast-check)', function () {
  this.timeout(120_000);

  it('no command outside the envelope, without its approvals, twice for a step, or executed twice', async function () {
    const stats: string[] = [];
    const settled = { written: 0, failed: 0, unknown: 0 };
    let commands = 0;
    let executed = 0;
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(action, { minLength: 30, maxLength: 100, size: 'max' }),
        fc.boolean(),
        async (config, actions, notifying) => {
          const w = new World(config, notifying);
          await w.open();
          // a plant that reports itself, so some changes get through
          await w.reading(TAG, 0, 'good', 1);
          await w.reading('mode', 0, 'good', 1);
          for (const a of actions) {
            await w.run(a);
            if (w.failure) {
              if (process.env.GATE_PROPS_DEBUG) {
                console.log(
                  w.records
                    .map((r) => `${r.seq} ${r.tsMs} ${r.type} ${r.proposalId ?? ''} ${JSON.stringify(r.data).slice(0, 160)}`)
                    .join('\n'),
                );
              }
              throw w.failure;
            }
          }
          w.gate.close();
          const states = w.records.map((r) => r.type);
          stats.push(states.join(','));
          commands += w.emitted.filter((e) => !e.replay).length;
          executed += w.executions.size;
          for (const k of ['written', 'failed', 'unknown'] as const) settled[k] += w.settled[k];
        },
      ),
      // a fixed seed keeps `npm test` reproducible; GATE_PROPS_SEED explores others
      { numRuns: 200, seed: Number(process.env.GATE_PROPS_SEED ?? 20261125) },
    );
    if (process.env.GATE_PROPS_DEBUG) {
      const counts = new Map<string, number>();
      for (const st of stats) for (const t of st.split(',')) counts.set(t, (counts.get(t) ?? 0) + 1);
      console.log(stats.length, counts);
    }
    // the properties were exercised, not passed vacuously
    expect(commands).to.be.greaterThan(100);
    expect(executed).to.be.greaterThan(40);
    // commands left open by a crash were settled every way (written, not written, plant unreadable)
    expect(settled.written, JSON.stringify(settled)).to.be.greaterThan(0);
    expect(settled.failed, JSON.stringify(settled)).to.be.greaterThan(0);
    expect(settled.unknown, JSON.stringify(settled)).to.be.greaterThan(0);
    if (process.env.GATE_PROPS_DEBUG) console.log('settled after a crash:', settled);
  });

  it('keeps the same ledger whether it knows recorded results from onAppend or by reading the ledger', async function () {
    let results = 0;
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(action, { minLength: 30, maxLength: 80, size: 'max' }), async (config, actions) => {
        const worlds = [new World(config, true), new World(config, false)];
        for (const w of worlds) {
          await w.open();
          await w.reading(TAG, 0, 'good', 1);
          await w.reading('mode', 0, 'good', 1);
          for (const a of actions) await w.run(a);
          w.gate.close();
          if (w.failure) throw w.failure;
        }
        const [indexed, read] = worlds.map((w) => w.records.map((r) => canonicalJson(r)));
        expect(indexed).to.deep.equal(read);
        results += worlds[0]!.results.length;
      }),
      { numRuns: 60, seed: Number(process.env.GATE_PROPS_SEED ?? 20261126) },
    );
    expect(results).to.be.greaterThan(30); // results were delivered, so the lookup was exercised
  });
});
