/**
 * For the supervisors' page specs: an embedded Node-RED (as `twinloop start` embeds it) whose admin
 * app carries the approvals page, and a small but real GateHandle that keeps its decisions in a real
 * file ledger. The page sees gates only through runtime/control/gate-registry.ts, so this stands in
 * for twin-approval without knowing anything else about it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import type { EmbeddedNodeRed } from '../../bin/lib/embedded-node-red.js';
import type { Decision, EnvelopeCheck, EnvelopeConfig, LedgerRecord, Proposal, ProposalState } from '../../runtime/model/control.js';
import type {
  AutoApprovalPolicy,
  DecisionOutcome,
  DecisionRequest,
  GateHandle,
  ProposalView,
  TrendPoint,
} from '../../runtime/control/gate-registry.js';
import type { Ledger } from '../../runtime/control/stores.js';
import { freePort, waitFor } from './ports.js';

const ROOT = join(__dirname, '..', '..');
// The built modules: the same instances the page's api.js uses inside Node-RED (one gate registry).
export const registry = require(
  join(ROOT, 'dist', 'runtime', 'control', 'gate-registry.js'),
) as typeof import('../../runtime/control/gate-registry.js');
const { openFileLedger } = require(
  join(ROOT, 'dist', 'runtime', 'control', 'file-ledger.js'),
) as typeof import('../../runtime/control/file-ledger.js');
const { startNodeRed } = require(
  join(ROOT, 'dist', 'bin', 'lib', 'embedded-node-red.js'),
) as typeof import('../../bin/lib/embedded-node-red.js');

export interface TestUser {
  username: string;
  password: string;
  permissions: string | string[];
  printedName?: string;
}

/** supervisor(s) may decide, viewer may look, operator has a permission that allows neither. */
export const USERS: TestUser[] = [
  {
    username: 'supervisor',
    password: 'sup-pass-1',
    permissions: ['read', 'twinloop.approve'],
    printedName: 'Dana Reyes (shift supervisor)',
  },
  {
    username: 'supervisor2',
    password: 'sup-pass-2',
    permissions: ['read', 'twinloop.approve'],
    printedName: 'Sam Okafor (process engineer)',
  },
  { username: 'viewer', password: 'view-pass', permissions: 'read' },
  { username: 'operator', password: 'op-pass', permissions: ['flows.read'] },
];

/**
 * Node-RED in this process with the approvals page registered through a tiny node in
 * `<userDir>/nodes` (twin-approval registers it the same way, at module load).
 */
export async function startApprovalsNodeRed(
  users: TestUser[] | undefined,
  logLevel = 'error',
  flow: unknown[] = [],
): Promise<EmbeddedNodeRed & { home: string }> {
  const home = mkdtempSync(join(tmpdir(), 'twinloop-approvals-'));
  const nodesDir = join(home, 'nodes');
  mkdirSync(nodesDir, { recursive: true });
  const api = join(ROOT, 'dist', 'nodes', 'twin-approval', 'page', 'api.js');
  writeFileSync(
    join(nodesDir, 'twinloop-approvals-test.js'),
    `module.exports = function (RED) {\n  require(${JSON.stringify(api)}).registerApprovalsPage(RED);\n` +
      `  RED.nodes.registerType('twinloop-approvals-test', function (c) { RED.nodes.createNode(this, c); });\n};\n`,
  );
  writeFileSync(join(nodesDir, 'twinloop-approvals-test.html'), '');
  writeFileSync(join(home, 'flows.json'), JSON.stringify(flow));
  const red = await startNodeRed({
    userDir: home,
    port: await freePort(),
    host: '127.0.0.1',
    logLevel,
    adminAuthUsers: users?.map((u) => ({
      username: u.username,
      password: hashSync(u.password, 4),
      permissions: u.permissions,
      printedName: u.printedName,
    })),
  });
  await waitFor(async () => (await fetch(`${red.url}twinloop/approvals`)).status === 200, 30_000, 100, 'the approvals page');
  return { ...red, home };
}

/** Node-RED's own login, with the user's own permissions (scope ''), as the editor and the page do it. */
export async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }),
  });
  if (!res.ok) throw new Error(`login as ${username}: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The env var the real gate flow's twin-ledger reads its command signing key from. */
export const SIGNING_KEY_ENV = 'TWINLOOP_TEST_SIGNING_KEY';
export const REAL_GATE_ID = 'approval1';

/**
 * The real gate's plant connection: readings posted to `/test/gate` stand in for an ingest node's and
 * carry its origin (fromPlant), or the gate does not count them.
 */
export const PLANT_CONNECTION = 'test-plant-connection';
export function fromPlant<R extends { tag: string }>(r: R): R & { origin: { connection: string; item: string } } {
  return { ...r, origin: { connection: PLANT_CONNECTION, item: `ns=1;s=${r.tag}` } };
}

/**
 * The real twin-approval node with its twin-envelope and twin-ledger (ledger under the user dir),
 * and `POST <httpNodeRoot>/test/gate` to hand it Proposals and Readings as a flow would.
 */
export function realGateFlow(): unknown[] {
  return [
    { id: 'approvals-tab', type: 'tab', label: 'approvals test' },
    {
      id: 'env1',
      type: 'twin-envelope',
      name: 'barrel temperature',
      asset: ENVELOPE.asset,
      tag: ENVELOPE.tag,
      unit: 'degC',
      lowLimit: '190',
      highLimit: '240',
      maxStep: '5',
      rateUpPerMin: '2',
      rateDownPerMin: '2',
      minDwellMs: '60000',
      interlocks: [],
      inputTags: '',
      maxInputAgeMs: '600000',
      minQuality: 'good',
      ramp: false,
      source: PLANT_CONNECTION,
    },
    { id: 'led1', type: 'twin-ledger', name: 'audit ledger', path: '', signingKeyEnv: SIGNING_KEY_ENV },
    {
      id: REAL_GATE_ID,
      type: 'twin-approval',
      z: 'approvals-tab',
      name: 'Barrel temperature (real gate)',
      envelope: 'env1',
      ledger: 'led1',
      twoPersonAboveStep: '',
      autoApproval: false,
      autoApprovalMaxStep: '',
      commandTtlMs: '60000',
      kpiTag: '',
      wires: [[], []],
    },
    { id: 'gate-in', type: 'http in', z: 'approvals-tab', url: '/test/gate', method: 'post', wires: [[REAL_GATE_ID, 'gate-ok']] },
    { id: 'gate-ok', type: 'http response', z: 'approvals-tab', statusCode: '204', wires: [] },
  ];
}

export const ENVELOPE: EnvelopeConfig = {
  asset: 'demo/plant1/extrusion/line1/extruder',
  tag: 'barrel_temp_sp',
  unit: 'degC',
  lowLimit: 190,
  highLimit: 240,
  maxStep: 5,
  rateUpPerMin: 2,
  rateDownPerMin: 2,
  minDwellMs: 60_000,
  interlocks: [{ tag: 'mode', op: '==', value: 1 }],
  inputTags: ['melt_temp'],
  maxInputAgeMs: 10_000,
  minQuality: 'good',
  ramp: true,
};

export function makeProposal(over: Partial<Proposal> = {}): Proposal {
  const nowMs = Date.now();
  return {
    id: `p-${Math.random().toString(36).slice(2, 10)}`,
    asset: ENVELOPE.asset,
    tag: ENVELOPE.tag,
    currentValue: 215,
    proposedValue: 211,
    unit: 'degC',
    rationale: 'A lower barrel temperature cuts energy per kg; melt quality stayed within limits over the fitted range.',
    predictedEffect: {
      kpiTag: 'energy_per_kg',
      kpiUnit: 'kWh/kg',
      currentKpi: 0.42,
      predictedKpi: 0.395,
      lowKpi: 0.385,
      highKpi: 0.405,
      intervalPct: 90,
    },
    fit: { method: 'ols-quadratic', n: 180, r2: 0.91, rmse: 0.006 },
    fitRange: { fromTsMs: nowMs - 3_600_000, toTsMs: nowMs, setpointMin: 205, setpointMax: 225 },
    createdTsMs: nowMs,
    expiresTsMs: nowMs + 15 * 60_000,
    quality: 'good',
    ...over,
  };
}

/** 30 minutes of history: the setpoint's last step and a KPI that wobbles around its current value. */
function trend(p: Proposal): { setpoint: TrendPoint[]; kpi: TrendPoint[] } {
  const t0 = Date.now() - 30 * 60_000;
  const setpoint: TrendPoint[] = [];
  const kpi: TrendPoint[] = [];
  const e = p.predictedEffect;
  const dSp = p.currentValue - p.proposedValue;
  const dKpi = e.currentKpi - e.predictedKpi;
  for (let i = 0; i <= 60; i++) {
    const tsMs = t0 + i * 30_000;
    // an earlier step the other way, and the KPI following it, with some wobble
    setpoint.push({ tsMs, value: i < 20 ? p.currentValue + 0.5 * dSp : p.currentValue });
    kpi.push({ tsMs, value: e.currentKpi + (i < 20 ? 0.5 * dKpi : 0) + 0.15 * dKpi * Math.sin(i / 3) });
  }
  return { setpoint, kpi };
}

interface Entry {
  proposal: Proposal;
  state: ProposalState;
  decisions: Decision[];
  envelope: EnvelopeCheck;
  reason?: string;
}

/**
 * A real GateHandle with the gate's rules the page relies on: decide only while pending and
 * unexpired, one decision per user, two approvals from different users above `twoPersonAboveStep`,
 * every decision appended (fsync'ed) to a file ledger before it is reported.
 */
export class TestGate implements GateHandle<'setpoint'> {
  readonly kind = 'setpoint';
  readonly name: string;
  readonly asset = ENVELOPE.asset;
  readonly tag = ENVELOPE.tag;
  readonly envelope = ENVELOPE;
  readonly envelopeVersion = 'test-envelope-v1';
  /** The cluster line it acts for (a cluster spec sets it before registering). */
  line?: string;
  /** What decide() / setAutoApproval() were called with, for the specs to check. */
  readonly decideCalls: Array<DecisionRequest & { meaning?: string }> = [];
  readonly policyCalls: Array<{ enabled: boolean; user: string; reason?: string }> = [];
  private policy: AutoApprovalPolicy = { enabled: true, configured: true, maxStep: 1 };
  private readonly entries = new Map<string, Entry>();

  private constructor(
    readonly id: string,
    private readonly ledger: Ledger,
    readonly twoPersonAboveStep: number,
  ) {
    this.name = `Extruder setpoints (test gate ${id})`;
  }

  static async open(id: string, dir: string, twoPersonAboveStep = Infinity): Promise<TestGate> {
    return new TestGate(id, await openFileLedger(join(dir, `${id}.jsonl`)), twoPersonAboveStep);
  }

  get ledgerLocation(): string {
    return this.ledger.location;
  }

  async addProposal(p: Proposal, envelope?: Partial<EnvelopeCheck>): Promise<Proposal> {
    await this.ledger.append({ type: 'proposal', asset: p.asset, tag: p.tag, proposalId: p.id, data: p });
    this.entries.set(p.id, {
      proposal: p,
      state: 'pending',
      decisions: [],
      envelope: { ok: true, version: this.envelopeVersion, checkedTsMs: Date.now(), violations: [], ...envelope },
    });
    return p;
  }

  autoApproval(): AutoApprovalPolicy {
    return { ...this.policy };
  }

  views(): ProposalView[] {
    return [...this.entries.values()].map((e) => ({
      proposal: e.proposal,
      state: e.state,
      decisions: [...e.decisions],
      requiredApprovals: this.required(e.proposal),
      envelope: { ...e.envelope, checkedTsMs: Date.now() },
      trend: trend(e.proposal),
      reason: e.reason,
    }));
  }

  state(proposalId: string): ProposalState | undefined {
    return this.entries.get(proposalId)?.state;
  }

  async decide(req: DecisionRequest & { meaning?: string }): Promise<DecisionOutcome> {
    this.decideCalls.push({ ...req });
    const e = this.entries.get(req.proposalId);
    if (!e) return { ok: false, error: `no proposal ${req.proposalId}` };
    if (e.state !== 'pending') return { ok: false, state: e.state, error: `the proposal is ${e.state}` };
    if (Date.now() > e.proposal.expiresTsMs) return { ok: false, state: e.state, error: 'the proposal has expired' };
    if (e.decisions.some((d) => d.user === req.user))
      return { ok: false, state: e.state, error: `${req.user} has already decided on this proposal` };
    const decision: Decision = {
      proposalId: req.proposalId,
      verdict: req.verdict,
      user: req.user,
      printedName: req.printedName,
      meaning: req.meaning ?? '',
      reason: req.reason,
      tsMs: Date.now(),
      envelopeVersion: this.envelopeVersion,
    };
    await this.ledger.append({ type: 'decision', asset: this.asset, tag: this.tag, proposalId: req.proposalId, data: decision });
    e.decisions.push(decision);
    const approvals = e.decisions.filter((d) => d.verdict === 'approve').length;
    e.state = req.verdict === 'reject' ? 'rejected' : approvals >= this.required(e.proposal) ? 'approved' : 'pending';
    return { ok: true, state: e.state };
  }

  async setAutoApproval(enabled: boolean, user: string, reason?: string): Promise<DecisionOutcome> {
    this.policyCalls.push({ enabled, user, reason });
    await this.ledger.append({
      type: 'policy',
      asset: this.asset,
      tag: this.tag,
      data: { enabled, maxStep: this.policy.maxStep, user, reason },
    });
    this.policy = { ...this.policy, enabled };
    return { ok: true };
  }

  ledgerRecords(): Promise<LedgerRecord[]> {
    return this.ledger.readAll();
  }

  close(): Promise<void> {
    return this.ledger.close();
  }

  private required(p: Proposal): number {
    return Math.abs(p.proposedValue - p.currentValue) > this.twoPersonAboveStep ? 2 : 1;
  }
}
