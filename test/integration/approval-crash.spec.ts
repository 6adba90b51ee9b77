/**
 * Crash test of the closed loop (issue 4, "Must show"): the Node-RED process killed with SIGKILL
 * between a supervisor's approval and the write to the plant, then started again with the same home.
 * The ledger verifies, the gate restores its state from it, and the approved change reaches the plant
 * exactly once or not at all (expired / refused / failed, and the ledger says which); never twice.
 * And the ledger's account matches what the plant saw: written ⇔ the plant took it. A kill between the
 * plant accepting a write and the writer's 'write' record used to leave the ledger saying the change
 * failed while the plant held it; the writer's write-ahead intent and its settling of the re-sent
 * command from the plant after the restart (runtime/control/writer.ts) close that: the ledger then
 * says written, "plant confirmed after restart". Only an 'unknown' outcome (the plant could not be
 * read when settling) may leave the question open, and then the ledger says so.
 *
 * Real parts: `twinloop start --no-sim` as a child process (Node-RED with adminAuth, the embedded
 * broker), the flow simulator → twin-opcua-in → twin-approval → twin-opcua-write → simulator, and a
 * core `http in` → twin-approval for the test's proposals. The plant simulator runs in THIS
 * process, so it outlives Node-RED and counts every write the PLC accepted. Node-RED reaches it
 * through a TCP relay the test can freeze: "between approval and write" is made deterministic by a
 * PLC that stops answering (readings stay good and age; the writer's read waits), since a stopped
 * server makes twin-opcua-in mark every reading bad and the gate then blocks the change, rightly.
 *
 * The envelope has no ramp: every approved change is one signed command, so "written once" is one
 * accepted write per command and per approved value at the plant. A ramp would multiply the steps,
 * each held back by dwell and rate, for no new crash window (each step is the same command → claim
 * → write → read back sequence this test kills inside).
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerRecord, Proposal } from '../../runtime/model/control.js';
import { waitFor } from '../support/ports.js';
import { startFreezableProxy, type FreezableProxy } from '../support/crash-proxy.js';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import {
  GATE_ID,
  PROPOSAL_PATH,
  SIGNING_KEY,
  TAG,
  TERMINAL,
  api,
  cliVerify,
  crashFlow,
  makeProposal,
  phaseAtKill,
  readLedger,
  readUsedIds,
  sendDecide,
  startCrashPlant,
  stateFromLedger,
  story,
  viewOf,
  type CrashPlant,
  type KillPhase,
  type ProposalViewLike,
} from '../support/crash-loop.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('integration: twinloop killed (SIGKILL) between approval and write, then started again', function () {
  this.timeout(300_000); // a hang guard: a loaded machine runs the simulator and Node-RED slowly
  let base: string;
  let plant: CrashPlant;
  let proxy: FreezableProxy;
  let endpoint = '';
  let tl: TwinloopProcess | undefined;
  let token = '';
  let password = '';

  before(async function () {
    base = mkdtempSync(join(tmpdir(), 'twinloop-crash-'));
    plant = await startCrashPlant(join(base, 'plant-pki'));
    // Node-RED reaches the plant through a relay the test can freeze (test/support/crash-proxy.ts)
    proxy = await startFreezableProxy('127.0.0.1', plant.port);
    endpoint = plant.endpoint.replace(`:${plant.port}/`, `:${proxy.port}/`);
  });

  after(async function () {
    if (tl) await shutdown().catch(() => undefined);
    await proxy?.close();
    await plant?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  function newHome(name: string): { home: string; ledgerPath: string } {
    const home = join(base, name);
    mkdirSync(home, { recursive: true });
    const ledgerPath = join(home, 'twinloop', 'ledger', 'crash.jsonl');
    writeFileSync(join(home, 'flows.json'), JSON.stringify(crashFlow(plant.asset, ledgerPath)));
    return { home, ledgerPath };
  }

  /** `twinloop start --no-sim` in `home`, logged in as the supervisor, the gate running. */
  async function boot(home: string): Promise<TwinloopProcess> {
    await roomForASession();
    proxy.thaw(); // (in case a test before this one failed while the relay was frozen)
    tl = await startTwinloop(['--no-sim'], { TWINLOOP_OPCUA_ENDPOINT: endpoint, TWINLOOP_SIGNING_KEY: SIGNING_KEY }, home);
    password = tl.logins.supervisor;
    expect(password, `logins printed: ${JSON.stringify(Object.keys(tl.logins))}`).to.be.a('string');
    token = await adminToken(tl.url, 'supervisor', password);
    const url = tl.url;
    await waitFor(
      async () => ((await api(url, token, 'GET', 'gates')).body?.gates ?? []).some((g: { id: string }) => g.id === GATE_ID),
      30_000,
      100,
      'twin-approval to register',
    );
    return tl;
  }

  /**
   * Ctrl-C, as a person stops it. `twinloop start` does not exit by itself once anyone has logged in
   * (Node-RED's session-expiry timer keeps the event loop alive after RED.stop(); see the report), so
   * after a few seconds without an exit it is killed and that is said.
   */
  async function shutdown(): Promise<void> {
    const child = tl!.child;
    tl = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    const code = await Promise.race([exited, sleep(5000).then(() => 'running' as const)]);
    if (code === 'running') {
      console.log('      (twinloop start had not exited 5 s after SIGINT: killed)');
      child.kill('SIGKILL');
      await exited;
    } else expect(code, 'twinloop exit code after SIGINT').to.equal(0);
  }

  /**
   * The simulator, like many PLCs, accepts 10 OPC UA sessions, and the session of a killed process
   * stays open on the server for its timeout (60 s, as twin-opcua-endpoint asks). Kill after kill, the
   * restarted Node-RED would find no session left (seen: the 11th process after 10 kills within a
   * minute gets no readings at all): before a restart, wait until at most 8 dead ones can be open.
   */
  const killsMs: number[] = [];
  const SESSION_TIMEOUT_MS = 60_000 + 5_000;
  async function roomForASession(): Promise<void> {
    const open = () => killsMs.filter((t) => Date.now() - t < SESSION_TIMEOUT_MS);
    if (open().length <= 8) return;
    const waitMs = open()[open().length - 9]! + SESSION_TIMEOUT_MS - Date.now();
    console.log(`      (waiting ${Math.round(waitMs / 1000)} s for dead sessions to time out on the simulator)`);
    await sleep(waitMs);
  }

  async function crash(): Promise<void> {
    await tl!.kill();
    killsMs.push(Date.now());
  }

  /** Publish until the gate shows it pending with its envelope check passing (fresh readings). */
  async function propose(p: Proposal): Promise<ProposalViewLike> {
    const url = tl!.url;
    let view: ProposalViewLike | undefined;
    for (let i = 0; i < 10 && !view; i++) {
      await fetch(new URL(`api${PROPOSAL_PATH}`, url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(p),
      });
      view = await waitFor(() => viewOf(url, token, p.id), 2000, 50, 'the proposal in the page').catch(() => undefined);
    }
    expect(view, 'the proposal reached the gate through http in').to.not.equal(undefined);
    return envelopeOk(p, 'a passing envelope check (fresh readings of the setpoint, interlocks and inputs)');
  }

  async function envelopeOk(p: Proposal, what: string): Promise<ProposalViewLike> {
    const url = tl!.url;
    let last: ProposalViewLike | undefined;
    const v = await waitFor(
      async () => {
        last = await viewOf(url, token, p.id);
        expect(last?.state).to.equal('pending');
        return last?.envelope.ok ? last : undefined;
      },
      20_000,
      100,
      what,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last?.envelope.violations)}\n${tl!.output().slice(-4000)}`);
    });
    return v!;
  }

  async function approve(p: Proposal, reason: string): Promise<{ status: number; body: any }> {
    return api(tl!.url, token, 'POST', 'decide', { gateId: GATE_ID, proposalId: p.id, verdict: 'approve', reason, password });
  }

  async function untilTerminal(p: Proposal): Promise<ProposalViewLike> {
    const url = tl!.url;
    // a command lost in the crash expires after its TTL plus the gate's grace for late results (30 s)
    return (await waitFor(
      async () => {
        const v = await viewOf(url, token, p.id);
        return v && TERMINAL.has(v.state) ? v : undefined;
      },
      75_000,
      100,
      `proposal ${p.id} to end`,
    ))!;
  }

  /** When the current test's home started: writes before it belong to another test. */
  let homeSinceMs = 0;
  const plantWritesOf = (value: number) => plant.writes.filter((w) => w.tag === TAG && w.value === value && w.atMs >= homeSinceMs).length;

  /**
   * What must hold after every restart, for every proposal of this home:
   *   the chain verifies (the CLI exits 0); the page shows the state the ledger rebuilds;
   *   per command at most one write in the ledger, per approved value at most one write at the plant;
   *   a change the ledger says was written reached the plant exactly once, and one that reached the
   *   plant is written in the ledger (or, only when settling could not read the plant, 'unknown');
   *   one that did not reach it ended with a reason in the ledger; every write at the plant has an
   *   approved command behind it; the plant holds the value the ledger last says was written; every
   *   write at the plant had its write-ahead intent in the ledger.
   */
  async function checkInvariants(ledgerPath: string, proposals: Proposal[], baseline: number, since: number): Promise<string[]> {
    const notes: string[] = [];
    const verify = cliVerify(ledgerPath);
    expect(verify.status, `twinloop ledger verify:\n${verify.out}`).to.equal(0);
    const { records, torn } = readLedger(ledgerPath);
    expect(torn, 'a torn last ledger line').to.equal(undefined);

    const values = proposals.map((p) => p.proposedValue);
    expect(new Set(values).size, 'the test proposes a new value each time (writes are told apart by value)').to.equal(values.length);

    // every write at the plant since this home started: an approved command of this ledger with that value
    const writes = plant.writes.filter((w) => w.tag === TAG && w.atMs >= since);
    for (const w of writes) {
      const cmd = records.find((r) => r.type === 'command' && (r.data as { value: number }).value === w.value);
      expect(cmd, `the plant took ${w.value}: no command for it in the ledger`).to.not.equal(undefined);
      const approved = records.some(
        (r) => r.type === 'decision' && r.proposalId === cmd!.proposalId && (r.data as { verdict: string }).verdict === 'approve',
      );
      expect(approved, `the plant took ${w.value}: no approval for proposal ${cmd!.proposalId}`).to.equal(true);
    }

    const url = tl!.url;
    for (const p of proposals) {
      const s = story(records, p.id);
      const atPlant = writes.filter((w) => w.value === p.proposedValue).length;
      expect(atPlant, `${p.proposedValue} written ${atPlant} times at the plant`).to.be.at.most(1);
      const ids = s.commands.map((c) => c.id);
      for (const id of new Set(ids)) {
        const written = s.writerWrites.filter((w) => w.commandId === id && w.outcome === 'written').length;
        expect(written, `command ${id}: ${written} 'write' records`).to.be.at.most(1);
      }
      for (const c of s.commands) expect(c.value).to.equal(p.proposedValue);
      if (new Set(ids).size > 1) notes.push(`proposal ${p.proposedValue}: ${new Set(ids).size} distinct commands issued`);
      const ledgerWritten = s.writerWrites.some((w) => w.outcome === 'written');
      const unknown = s.writerWrites.filter((w) => w.outcome === 'unknown');
      if (ledgerWritten) expect(atPlant, `ledger says ${p.proposedValue} was written; the plant saw it ${atPlant} times`).to.equal(1);
      // the other way round (the crash test's finding, now closed): the plant took it ⇒ the ledger says written
      if (atPlant === 1 && unknown.length === 0) {
        expect(
          ledgerWritten,
          `the plant took ${p.proposedValue} but the ledger does not say written (ledger: ${s.types.join(' → ')})`,
        ).to.equal(true);
      }
      if (atPlant === 1) {
        expect(
          s.intents.map((i) => i.value),
          `the write of ${p.proposedValue} without its write-ahead intent`,
        ).to.include(p.proposedValue);
      }
      for (const w of s.settled)
        notes.push(
          `settled after restart: ${p.proposedValue} ${w.outcome}${w.readBackOk !== undefined ? ` (read back ${w.readBackOk ? 'ok' : 'not ok'})` : ''}: ${w.note ?? w.reason ?? ''}`,
        );
      for (const w of unknown)
        notes.push(`NOTE: ${p.proposedValue} settled 'unknown' (the plant took it ${atPlant} time(s)): ${w.reason ?? ''}`);

      const view = await viewOf(url, token, p.id);
      const fromLedger = stateFromLedger(records, plant.asset, p.id);
      expect(view?.state, `page vs ledger for ${p.proposedValue}`).to.equal(fromLedger);
      if (view && TERMINAL.has(view.state) && atPlant === 0) {
        // not written: the ledger says why
        const why = [
          ...s.expiries.map((r) => `${r.type}: ${String((r.data as { reason?: string }).reason)}`),
          ...s.refusals.map((r) => `refused: ${String(r.reason)}`),
          ...s.writerWrites.filter((w) => w.outcome === 'failed').map((w) => `failed: ${String(w.reason)}`),
          ...s.decisions.filter((r) => (r.data as { verdict: string }).verdict === 'reject').map(() => 'rejected'),
        ];
        expect(why, `${p.proposedValue} ended ${view.state} without reaching the plant: no reason in the ledger`).to.not.deep.equal([]);
        expect(view.state).to.not.equal('done');
      }
      if (view?.state === 'done') {
        expect(atPlant).to.equal(1);
        // done needs a read-back that matched: the writer's own, or its settlement from the plant after a restart
        expect(
          s.writerReadbacks.some((r) => r.readBackOk === true),
          `${p.proposedValue} done without a matching read-back`,
        ).to.equal(true);
      }
    }

    // the plant holds the value the ledger last says was written (or the baseline when none was)
    const lastWritten = [...records]
      .reverse()
      .find((r) => r.type === 'write' && (r.data as { outcome: string; receivedByGate?: boolean }).outcome === 'written');
    const ledgerValue = lastWritten ? (lastWritten.data as { value: number }).value : baseline;
    const plantValue = plant.value();
    if (plantValue !== ledgerValue) {
      // Allowed only where the ledger itself says it does not know: a write settled 'unknown'.
      const p = proposals.find((x) => x.proposedValue === plantValue);
      const s = p ? story(records, p.id) : undefined;
      expect(
        s?.writerWrites.some((w) => w.outcome === 'unknown'),
        `plant holds ${plantValue}, the ledger's last write is ${ledgerValue} (ledger: ${s?.types.join(' → ')})`,
      ).to.equal(true);
      notes.push(
        `NOTE: the plant holds ${plantValue}, the ledger's last write is ${ledgerValue}; the ledger says the outcome of ${plantValue} is unknown`,
      );
    }
    return notes;
  }

  const scenariosA = [
    { name: 'A1', killAt: 'the command is in the ledger', step: -6 },
    { name: 'A2', killAt: 'the writer has claimed the command', step: 4 },
  ] as const;
  for (const { name, killAt, step } of scenariosA)
    it(`${name}: approved while the PLC has stopped answering, killed once ${killAt}: written once or not at all, and the ledger says which`, async function () {
      const { home, ledgerPath } = newHome(`home-${name}`);
      const since = Date.now();
      homeSinceMs = since;
      await boot(home);
      const baseline = plant.value();
      const p = makeProposal(plant.asset, baseline, baseline + step);
      await propose(p);

      // The PLC stops answering (the connection stays open: readings stay good, and age): the gate
      // issues the command, and the writer's read of the present value waits between approval and write.
      proxy.freeze();
      const decided = await approve(p, `crash test ${name}: cut energy per kg`);
      expect(decided.status, JSON.stringify(decided.body)).to.equal(200);
      expect(decided.body).to.include({ ok: true, user: 'supervisor' });
      const commandIn = () => story(readLedger(ledgerPath).records, p.id).commands[0];
      const claimed = () => commandIn() && readUsedIds(ledgerPath).has(commandIn()!.id);
      await waitFor<unknown>(name === 'A1' ? commandIn : claimed, 20_000, 2, killAt).catch(async (err) => {
        const v = await viewOf(tl!.url, token, p.id);
        throw new Error(
          `${(err as Error).message}; page: ${JSON.stringify({ state: v?.state, reason: v?.reason, envelope: v?.envelope })}; ledger: ${readLedger(
            ledgerPath,
          )
            .records.map((r) => JSON.stringify(r.data))
            .join('\n')}\n${tl!.output()}`,
        );
      });
      await crash();
      proxy.dropAll();
      proxy.thaw();
      const phase = phaseAtKill(readLedger(ledgerPath).records, readUsedIds(ledgerPath), 0, p.id);
      console.log(`      [${name}] kill phase: ${phase}; ledger: ${story(readLedger(ledgerPath).records, p.id).types.join(' → ')}`);
      expect(phase).to.be.oneOf(name === 'A1' ? ['command issued', 'command claimed'] : ['command claimed']);
      expect(plantWritesOf(p.proposedValue)).to.equal(0);

      await boot(home);
      const restored = await viewOf(tl!.url, token, p.id);
      console.log(`      [${name}] after restart the page shows: ${restored?.state}${restored?.reason ? ` (${restored.reason})` : ''}`);
      expect(restored, 'the restored gate shows the proposal').to.not.equal(undefined);
      expect(['approved', 'done', 'failed', 'expired']).to.include(restored!.state);

      const end = await untilTerminal(p);
      const records = readLedger(ledgerPath).records;
      const s = story(records, p.id);
      console.log(
        `      [${name}] ended ${end.state}${end.reason ? ` (${end.reason})` : ''}; plant writes of ${p.proposedValue}: ${plantWritesOf(p.proposedValue)}; ledger: ${s.types.join(' → ')}`,
      );
      expect(['done', 'failed', 'expired']).to.include(end.state);
      // a command the writer had claimed (it was waiting on the PLC, before its write-ahead intent) is
      // settled after the restart as not written, without writing
      for (const w of s.settled) {
        expect(w.outcome).to.equal('failed');
        expect(w.reason).to.match(/^not written before the crash/);
      }
      if (end.state === 'done') {
        expect(plant.value()).to.equal(p.proposedValue);
      } else {
        // not written: a replay refused, a failed write or an expiry, on record
        expect(s.refusals.length + s.writerWrites.filter((w) => w.outcome === 'failed').length + s.expiries.length).to.be.greaterThan(0);
      }
      // the decision is on record under the supervisor's login, and the page's history verifies the chain
      const history = await api(tl!.url, token, 'GET', 'history');
      const mine = (history.body.ledgers as Array<{ verification: { ok: boolean }; records: LedgerRecord[] }>).find((l) =>
        l.records.some((r) => r.proposalId === p.id),
      )!;
      expect(mine.verification.ok).to.equal(true);
      const decisions = mine.records.filter((r) => r.type === 'decision' && r.proposalId === p.id);
      expect(decisions.map((r) => (r.data as { user: string }).user)).to.deep.equal(['supervisor']);
      for (const n of await checkInvariants(ledgerPath, [p], baseline, since)) console.log(`      [${name}] ${n}`);
      await shutdown();
    });

  it("A3: killed after the PLC took the value, before the writer's 'write' record: after the restart the ledger says written (plant confirmed), never written twice", async function () {
    const { home, ledgerPath } = newHome('home-A3');
    const since = Date.now();
    homeSinceMs = since;
    await boot(home);
    const baseline = plant.value();
    const p = makeProposal(plant.asset, baseline, baseline + (baseline <= 220 ? 5 : -5));
    await propose(p);
    // The moment the PLC takes the value, the relay freezes: its answer never reaches the writer, which
    // waits with its write-ahead intent in the ledger and no 'write' record. Then the kill.
    plant.onNextWrite(() => proxy.freeze());
    const decided = await approve(p, 'crash test A3: cut energy per kg');
    expect(decided.status, JSON.stringify(decided.body)).to.equal(200);
    await waitFor(
      () => plantWritesOf(p.proposedValue) === 1 && story(readLedger(ledgerPath).records, p.id).intents.length === 1,
      20_000,
      2,
      'the PLC to take the value',
    );
    await crash();
    proxy.dropAll();
    proxy.thaw();
    const atKill = story(readLedger(ledgerPath).records, p.id);
    const phase = phaseAtKill(readLedger(ledgerPath).records, readUsedIds(ledgerPath), plantWritesOf(p.proposedValue), p.id);
    console.log(`      [A3] kill phase: ${phase}; ledger: ${atKill.types.join(' → ')}; the plant holds ${plant.value()}`);
    // exactly the window of the finding: the plant has it, the ledger has only the intent
    expect(phase).to.equal('written at the plant, not yet in the ledger');
    expect(atKill.intents.map((i) => i.value)).to.deep.equal([p.proposedValue]);
    expect(plant.value()).to.equal(p.proposedValue);

    await boot(home);
    const end = await untilTerminal(p);
    const s = story(readLedger(ledgerPath).records, p.id);
    console.log(
      `      [A3] ended ${end.state}${end.reason ? ` (${end.reason})` : ''}; plant writes of ${p.proposedValue}: ${plantWritesOf(p.proposedValue)}; ledger: ${s.types.join(' → ')}`,
    );
    expect(plantWritesOf(p.proposedValue), 'never written twice').to.equal(1);
    if (s.settled.some((w) => w.outcome === 'unknown')) {
      // the plant could not be read when settling: the ledger says so, and the change failed safely
      expect(end.state).to.equal('failed');
    } else {
      expect(end.state).to.equal('done');
      expect(s.settled.map((w) => [w.outcome, w.readBackOk])).to.deep.equal([
        ['written', undefined],
        ['written', true],
      ]);
      expect(s.settled[1]!.note).to.match(/^plant confirmed after restart: it holds /);
      expect(s.refusals, 'no REPLAYED refusal for the re-sent command').to.deep.equal([]);
    }
    for (const n of await checkInvariants(ledgerPath, [p], baseline, since)) console.log(`      [A3] ${n}`);
    await shutdown();
  });

  it('B: killed at varied moments after the approval is sent: every approved value reaches the plant at most once', async function () {
    const { home, ledgerPath } = newHome('home-b');
    const since = Date.now();
    homeSinceMs = since;
    await boot(home);
    const baseline = plant.value();
    // distinct values inside the envelope (200..230), each within maxStep (10) of any value one, two or
    // three rounds before may have left (a change that was not written leaves the one before)
    const targets = [212, 218, 211, 219, 213, 220, 214, 221, 216, 222, 217, 223].filter((v) => v !== baseline);
    const proposals: Proposal[] = [];
    const hits: Array<{ delayMs: number; phase: KillPhase; end: string }> = [];
    const printed = new Set<string>();
    type Mark = 'decision' | 'command' | 'write-intent' | 'write' | 'readback';
    /** Where each record fell after the decide request left, as last measured (a fresh process each time). */
    const est: Record<Mark, number> = { decision: NaN, command: NaN, 'write-intent': NaN, write: NaN, readback: NaN };
    const measure = (p: Proposal, sentMs: number, beforeMs = Infinity) => {
      for (const r of readLedger(ledgerPath).records) {
        if (r.proposalId === p.id && r.tsMs <= beforeMs && r.type in est && r.tsMs >= sentMs) est[r.type as Mark] = r.tsMs - sentMs;
      }
    };

    // Round 0, no kill: where the records fall after the decide request has left (to aim kills at).
    {
      const p = makeProposal(plant.asset, plant.value(), targets[0]);
      proposals.push(p);
      await propose(p);
      const d = sendDecide(tl!.url, token, {
        gateId: GATE_ID,
        proposalId: p.id,
        verdict: 'approve',
        reason: 'crash test B, round 0',
        password,
      });
      await d.sent;
      const sentMs = Date.now();
      const res = await d.response;
      expect(res).to.have.property('status', 200);
      const end = await untilTerminal(p);
      expect(end.state).to.equal('done');
      measure(p, sentMs);
      console.log(`      [B] round 0 (no kill): records after the request left: ${JSON.stringify(est)} ms`);
    }
    // Fixed delays, then kills aimed at the moments around each record as last measured (machines
    // and runs differ; each kill round that got far enough measures again).
    // (Kills are few enough that the simulator's sessions are rarely the limit: see roomForASession.)
    const plan: Array<number | [Mark, number]> = [
      0,
      10,
      30,
      ['decision', 1],
      ['command', 1],
      ['write-intent', 1],
      ['write', -2],
      ['write', 1],
      ['readback', 3],
    ];

    for (let i = 0; i < plan.length; i++) {
      const aim = plan[i]!;
      const delayMs = typeof aim === 'number' ? aim : Math.max(0, Math.round(est[aim[0]] + aim[1]));
      const from = plant.value();
      const p = makeProposal(plant.asset, from, targets[i + 1]);
      proposals.push(p);
      await propose(p);

      const d = sendDecide(tl!.url, token, {
        gateId: GATE_ID,
        proposalId: p.id,
        verdict: 'approve',
        reason: `crash test B, kill after ${delayMs} ms`,
        password,
      });
      await d.sent;
      const sentMs = Date.now();
      if (delayMs > 0) await sleep(delayMs);
      await crash();
      const killedMs = Date.now();
      const reply = await d.response;
      const phase = phaseAtKill(readLedger(ledgerPath).records, readUsedIds(ledgerPath), plantWritesOf(p.proposedValue), p.id);
      measure(p, sentMs, killedMs);

      await boot(home);
      const bootedMs = Date.now();
      let view = await viewOf(tl!.url, token, p.id);
      expect(view, 'the proposal survives the crash (it was pending, so it is in the ledger)').to.not.equal(undefined);
      let again = '';
      if (view!.state === 'pending') {
        // the decision never became durable: the supervisor signs again, as they would on the page
        await envelopeOk(p, 'fresh readings after the restart');
        const r = await approve(p, `crash test B, again after the kill at ${delayMs} ms`);
        expect(r.status, JSON.stringify(r.body)).to.equal(200);
        again = ', approved again after restart';
      }
      view = await untilTerminal(p);
      const s = story(readLedger(ledgerPath).records, p.id);
      const reached = plantWritesOf(p.proposedValue);
      console.log(
        `      [B] kill ${delayMs} ms after the request left${typeof aim === 'number' ? '' : ` (aimed at ${aim[0]} ${aim[1] > 0 ? '+' : ''}${aim[1]} ms)`} → ${phase} (reply: ${'status' in reply ? reply.status : reply.error})${again}; ` +
          `ended ${view.state}${view.reason ? ` (${view.reason})` : ''}; plant writes of ${p.proposedValue}: ${reached}; ledger: ${s.types.join(' → ')}`,
      );
      if (view.state !== 'done') {
        // what the ledger holds about it, timed from the kill and from the restart (for the report)
        const detail = readLedger(ledgerPath)
          .records.filter((r) => r.proposalId === p.id && r.type !== 'proposal')
          .map(
            (r) =>
              `${r.type} @kill${r.tsMs - killedMs >= 0 ? '+' : ''}${r.tsMs - killedMs} ms/boot${r.tsMs - bootedMs >= 0 ? '+' : ''}${r.tsMs - bootedMs} ms ${JSON.stringify((r.data as { envelopeCheck?: unknown }).envelopeCheck ?? '')}`,
          );
        console.log(`          ${detail.join('\n          ')}`);
      }
      hits.push({ delayMs, phase, end: view.state });
      for (const n of await checkInvariants(ledgerPath, proposals, baseline, since)) {
        if (!printed.has(n)) console.log(`      [B] ${n}`); // (every round re-checks every proposal: say each note once)
        printed.add(n);
      }
    }

    const covered = [...new Set(hits.map((h) => h.phase))];
    console.log(`      [B] kill phases covered: ${covered.join(', ')}`);
    expect(hits.length).to.equal(plan.length);
    await shutdown();
  });
});
