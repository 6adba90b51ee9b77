/**
 * Support for the approval crash test (test/integration/approval-crash.spec.ts): the closed-loop
 * flow written into a `twinloop start` home, the plant simulator in the test process (it outlives
 * Node-RED and counts every write the PLC accepted), the ledger and used-commands files read as
 * plain files (another process owns them), the supervisors' page API, and the classification of
 * where in the loop a SIGKILL landed.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { restoreGateState } from '../../runtime/control/gate-restore.js';
import type { GateConfig } from '../../runtime/control/gate-state.js';
import type { Command, LedgerRecord, Proposal, ProposalState, WriteResult } from '../../runtime/model/control.js';
import { startTestPlantSim, type TestPlantSim } from './plant-sim.js';

export const SIGNING_KEY = 'crash-test-signing-key-0123456789abcdef';
export const TAG = 'zone3_sp';
/** The test's proposals arrive over HTTP (the demo broker lets no test client publish to Node-RED: bin/lib/broker-acl.ts). */
export const PROPOSAL_PATH = '/crash/proposal';
export const GATE_ID = 'crash-gate';
export const WRITER_ID = 'crash-write';
export const COMMAND_TTL_MS = 8000;
export const TERMINAL: ReadonlySet<string> = new Set(['rejected', 'expired', 'superseded', 'blocked', 'done', 'failed']);

/** The envelope of the twin-envelope node (as the editor saves it) and as the gate sees it. */
export function envelopeFields(asset: string) {
  return {
    asset,
    tag: TAG,
    unit: 'degC',
    lowLimit: 200,
    highLimit: 230,
    maxStep: 10,
    rateUpPerMin: 600,
    rateDownPerMin: 600,
    minDwellMs: 0,
    interlocks: [
      { tag: 'mode', op: '==', value: 1 },
      { tag: 'alarm', op: '==', value: 0 },
    ],
    // Inputs must be good and fresh, but "fresh" is generous: twin-opcua-in reports by exception, so a
    // tag that does not change (mode, alarm, a setpoint between writes) keeps the time of its last
    // notification, and a round whose command expires (TTL + the gate's 30 s grace) would otherwise
    // find its interlocks stale (see the report).
    inputTags: 'quality_index, melt_temp',
    maxInputAgeMs: 120_000,
    minQuality: 'good',
    ramp: false,
    source: 'crash-ep',
  };
}

/**
 * simulator → twin-opcua-in → twin-approval ← http in (the test's proposals); twin-approval output 1 →
 * twin-opcua-write → output 1 back into twin-approval. Endpoint, broker and key come from the
 * environment `twinloop start` sets, as a prebuilt flow would have them.
 */
export function crashFlow(asset: string, ledgerPath: string): unknown[] {
  const item = (tag: string) => ({ nodeId: `ns=1;s=extruder.${tag}`, asset, tag });
  return [
    { id: 'crash-tab', type: 'tab', label: 'approval crash test' },
    {
      id: 'crash-ep',
      type: 'twin-opcua-endpoint',
      name: 'test plant',
      endpointUrl: '${TWINLOOP_OPCUA_ENDPOINT}',
      securityMode: 'None',
      securityPolicy: 'None',
      authMode: 'anonymous',
      acceptUnknownCertificates: false,
    },
    {
      id: 'crash-in',
      type: 'twin-opcua-in',
      z: 'crash-tab',
      name: 'extruder',
      endpoint: 'crash-ep',
      items: [item(TAG), item('mode'), item('alarm'), item('quality_index'), item('melt_temp')],
      samplingIntervalMs: 200,
      deadband: 0,
      queueSize: 1,
      maxFutureMs: 5000,
      defaultAsset: '',
      wires: [[GATE_ID]],
    },
    { id: 'crash-env', type: 'twin-envelope', name: 'zone3_sp envelope', ...envelopeFields(asset) },
    { id: 'crash-led', type: 'twin-ledger', name: 'crash ledger', path: ledgerPath, signingKeyEnv: 'TWINLOOP_SIGNING_KEY' },
    {
      id: GATE_ID,
      type: 'twin-approval',
      z: 'crash-tab',
      name: 'approve zone3_sp',
      envelope: 'crash-env',
      ledger: 'crash-led',
      twoPersonAboveStep: '',
      autoApproval: false,
      autoApprovalMaxStep: '',
      commandTtlMs: COMMAND_TTL_MS,
      kpiTag: 'energy_per_kg',
      wires: [[WRITER_ID], []],
    },
    {
      id: WRITER_ID,
      type: 'twin-opcua-write',
      z: 'crash-tab',
      name: 'write zone3_sp',
      endpoint: 'crash-ep',
      nodeId: `ns=1;s=extruder.${TAG}`,
      asset,
      tag: TAG,
      envelope: 'crash-env',
      ledger: 'crash-led',
      readBackTimeoutMs: 3000,
      readBackTolerance: '',
      wires: [[GATE_ID], []],
    },
    // http in parses the JSON body into msg.payload; the response tells the test it arrived
    {
      id: 'crash-http-in',
      type: 'http in',
      z: 'crash-tab',
      name: 'proposals',
      url: PROPOSAL_PATH,
      method: 'post',
      upload: false,
      wires: [[GATE_ID, 'crash-http-out']],
    },
    { id: 'crash-http-out', type: 'http response', z: 'crash-tab', statusCode: '202', headers: {}, wires: [] },
  ];
}

/** A Proposal as twin-propose makes one (runtime/model/control.ts). */
export function makeProposal(asset: string, from: number, to: number, ttlMs = 4 * 60_000): Proposal {
  const now = Date.now();
  return {
    id: randomUUID(),
    asset,
    tag: TAG,
    currentValue: from,
    proposedValue: to,
    unit: 'degC',
    rationale: `Crash test: zone 3 from ${from} to ${to} degC.`,
    predictedEffect: {
      kpiTag: 'energy_per_kg',
      kpiUnit: 'kWh/kg',
      currentKpi: 0.31,
      predictedKpi: 0.3,
      lowKpi: 0.295,
      highKpi: 0.305,
      intervalPct: 90,
    },
    fit: { method: 'ols-quadratic', n: 120, r2: 0.93, rmse: 0.004 },
    fitRange: { fromTsMs: now - 3_600_000, toTsMs: now, setpointMin: 200, setpointMax: 230 },
    createdTsMs: now,
    expiresTsMs: now + ttlMs,
    quality: 'good',
  };
}

// ---------------------------------------------------------------------------------------------
// The plant: a simulator in this process (it outlives Node-RED and counts the writes it accepted).

export interface PlantWrite {
  tag: string;
  value: number;
  atMs: number;
}

export interface CrashPlant {
  readonly endpoint: string;
  /** UNS asset path of the simulated extruder. */
  readonly asset: string;
  /** Every setpoint write the PLC accepted, across restarts of the simulator. */
  readonly writes: readonly PlantWrite[];
  readonly port: number;
  /**
   * Call `fn` once, synchronously inside the PLC's handling of the next setpoint write: after it took
   * the value, before its answer leaves (e.g. freeze the relay so the writer never hears it was taken).
   */
  onNextWrite(fn: (tag: string, value: number) => void): void;
  value(): number;
  stop(): Promise<void>;
}

export async function startCrashPlant(pkiDir: string): Promise<CrashPlant> {
  const writes: PlantWrite[] = [];
  let next: ((tag: string, value: number) => void) | undefined;
  let sim: TestPlantSim | undefined = await startTestPlantSim({
    publishIntervalMs: 200,
    pkiDir,
    onSetpointWrite: (tag, value) => {
      writes.push({ tag, value, atMs: Date.now() });
      const fn = next;
      next = undefined;
      fn?.(tag, value);
    },
  });
  return {
    endpoint: sim.endpoint,
    asset: sim.sim.asset,
    port: sim.port,
    writes,
    onNextWrite: (fn) => {
      next = fn;
    },
    value: () => {
      if (!sim) throw new Error('the simulator is stopped');
      return sim.sim.snapshot().truth[TAG];
    },
    async stop() {
      const s = sim;
      sim = undefined;
      await s?.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Files another process owns, read as they are on disk.

export interface LedgerFile {
  records: LedgerRecord[];
  /** A last line that is not a whole record (torn by the kill). */
  torn?: string;
}

export function readLedger(path: string): LedgerFile {
  if (!existsSync(path)) return { records: [] };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const records: LedgerRecord[] = [];
  for (const l of lines) if (l.trim() !== '') records.push(JSON.parse(l) as LedgerRecord);
  if (last.trim() === '') return { records };
  try {
    records.push(JSON.parse(last) as LedgerRecord);
    return { records };
  } catch {
    return { records, torn: last };
  }
}

export function readUsedIds(ledgerPath: string): Set<string> {
  const p = `${ledgerPath}.used`;
  const ids = new Set<string>();
  if (!existsSync(p)) return ids;
  for (const l of readFileSync(p, 'utf8').split('\n')) {
    try {
      const id = (JSON.parse(l) as { id?: unknown }).id;
      if (typeof id === 'string') ids.add(id);
    } catch {
      /* torn tail: that claim never resolved */
    }
  }
  return ids;
}

/**
 * `twinloop ledger verify FILE`, the chain only: the exit code and what it printed. Its home (a folder
 * that does not exist) and key variables are its own, so the ./.twinloop of whoever runs the suite
 * (`npm start` in the same checkout) or their TWINLOOP_SIGNING_KEY takes no part.
 */
export function cliVerify(ledgerPath: string): { status: number | null; out: string } {
  const bin = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
  const home = join(dirname(ledgerPath), 'no-home');
  const env = { ...process.env, TWINLOOP_SIGNING_KEY: '', TWINLOOP_SIGNING_KEY_FILE: '', TWINLOOP_HOME: '' };
  const r = spawnSync(process.execPath, [bin, 'ledger', 'verify', ledgerPath, '--home', home], { encoding: 'utf8', timeout: 30_000, env });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const isResult = (d: unknown): d is WriteResult & { receivedByGate?: boolean; refusal?: string } =>
  !!d && typeof (d as WriteResult).commandId === 'string' && typeof (d as WriteResult).outcome === 'string';

/** What the ledger says about one proposal. */
export interface ProposalStory {
  decisions: LedgerRecord[];
  commands: Command[];
  /** The writer's own records (not the gate's copies of a result it received). */
  writerWrites: Array<WriteResult & { refusal?: string }>;
  writerReadbacks: WriteResult[];
  refusals: Array<WriteResult & { refusal?: string }>;
  /** The writer's write-ahead records (appended before each write to the plant). */
  intents: Array<{ commandId: string; value: number; presentValue?: number }>;
  /** Results the writer settled from the plant after a restart (settledAfterRestart), in order. */
  settled: Array<WriteResult & { note?: string; settledAfterRestart?: boolean }>;
  expiries: LedgerRecord[];
  types: string[];
}

export function story(records: readonly LedgerRecord[], proposalId: string): ProposalStory {
  const mine = records.filter((r) => r.proposalId === proposalId);
  const s: ProposalStory = {
    decisions: [],
    commands: [],
    writerWrites: [],
    writerReadbacks: [],
    refusals: [],
    intents: [],
    settled: [],
    expiries: [],
    types: mine.map((r) => r.type),
  };
  for (const r of mine) {
    const d = r.data as Record<string, unknown>;
    if (r.type === 'decision') s.decisions.push(r);
    else if (r.type === 'command') s.commands.push(r.data as Command);
    else if (r.type === 'expired' || r.type === 'blocked') s.expiries.push(r);
    else if (r.type === 'write-intent') s.intents.push(r.data as ProposalStory['intents'][number]);
    else if (isResult(d) && d.receivedByGate !== true) {
      if ((d as { settledAfterRestart?: boolean }).settledAfterRestart === true) s.settled.push(d);
      if (r.type === 'write') s.writerWrites.push(d);
      else if (r.type === 'readback') s.writerReadbacks.push(d);
      else if (r.type === 'refused') s.refusals.push(d);
    }
  }
  return s;
}

/** Where in the loop a kill landed, from the files and the plant as they were right after it. */
export type KillPhase =
  | 'decision missing'
  | 'decision only'
  | 'command issued'
  | 'command claimed'
  | 'write intent recorded'
  | 'written at the plant, not yet in the ledger'
  | 'written'
  | 'read back';

export function phaseAtKill(
  records: readonly LedgerRecord[],
  usedIds: ReadonlySet<string>,
  plantWritesOfValue: number,
  proposalId: string,
): KillPhase {
  const s = story(records, proposalId);
  if (s.decisions.length === 0) return 'decision missing';
  if (s.commands.length === 0) return 'decision only';
  if (s.writerReadbacks.length > 0) return 'read back';
  if (s.writerWrites.some((w) => w.outcome === 'written')) return 'written';
  if (plantWritesOfValue > 0) return 'written at the plant, not yet in the ledger';
  if (s.intents.length > 0) return 'write intent recorded';
  if (s.commands.some((c) => usedIds.has(c.id))) return 'command claimed';
  return 'command issued';
}

/** The proposal's state as a restart rebuilds it from the ledger (the gate's own restore). */
export function stateFromLedger(records: readonly LedgerRecord[], asset: string, proposalId: string): ProposalState | undefined {
  const config = {
    envelope: { asset, tag: TAG },
    envelopeVersion: '',
    twoPersonAboveStep: Infinity,
    autoApproval: { enabled: false, maxStep: 0 },
    commandTtlMs: COMMAND_TTL_MS,
    signingKey: SIGNING_KEY,
  } as unknown as GateConfig;
  return restoreGateState(config, records).changes.get(proposalId)?.state;
}

// ---------------------------------------------------------------------------------------------
// The supervisors' page API.

export async function api(
  url: string,
  token: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}twinloop/approvals/api/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: json };
}

export interface ProposalViewLike {
  gateId: string;
  state: string;
  reason?: string;
  proposal: Proposal;
  envelope: { ok: boolean; violations: Array<{ code: string }> };
}

export async function viewOf(url: string, token: string, proposalId: string): Promise<ProposalViewLike | undefined> {
  const r = await api(url, token, 'GET', 'proposals');
  if (r.status !== 200) return undefined;
  return (r.body.proposals as ProposalViewLike[]).find((v) => v.gateId === GATE_ID && v.proposal.id === proposalId);
}

export interface SentDecision {
  /** Resolves once the request's bytes are handed to the socket. */
  sent: Promise<void>;
  /** The response, or the error the connection ended with. */
  response: Promise<{ status: number; body: string } | { error: string }>;
}

/** POST decide with node:http, so the caller knows when the request left (to time a kill after it). */
export function sendDecide(url: string, token: string, body: Record<string, unknown>): SentDecision {
  const data = JSON.stringify(body);
  let onSent!: () => void;
  const sent = new Promise<void>((r) => (onSent = r));
  const response = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = request(
      new URL('twinloop/approvals/api/decide', url),
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.on('error', (err) => {
      onSent();
      resolve({ error: err.message });
    });
    req.on('finish', onSent);
    req.end(data);
  });
  return { sent, response };
}
