/**
 * One cluster instance's closed loop for the proof runs of issue 16 with real processes (run 3:
 * cluster-write-kill.spec.ts, run 4: cluster-gate-sigstop.spec.ts): twin-cluster, twin-ledger on the
 * line's JetStream stream, twin-opcua-in → twin-approval with auto-approval → twin-opcua-write on the
 * plant simulator. A function node makes one ramp proposal (zone1_sp 190 → 180 in steps of 2, 2 s
 * dwell) when the trigger tag (zone2_sp) reads the trigger value. Plus a reader of the line's stream.
 */
import { join } from 'node:path';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { ledgerStreamName } from '../../runtime/cluster/line-id.js';
import { readStreamTexts } from '../../runtime/cluster/jetstream-ledger.js';
import { jetstream, jetstreamManager } from '../../runtime/cluster/nats-client.js';
import { retryTransient } from '../../runtime/cluster/expected-append.js';
import type { NatsCluster } from './nats.js';

export const GATE_TAG = 'zone1_sp';
export const TRIGGER_TAG = 'zone2_sp';
/** The ramp every run makes: 190 → 180, one command per 2 °C step. */
export const RAMP_VALUES = [188, 186, 184, 182, 180];

const dist = join(__dirname, '..', '..', 'dist', 'nodes');
export const CLUSTER_GATE_NODE_DIRS = [
  'twin-cluster',
  'twin-ledger',
  'twin-opcua-endpoint',
  'twin-opcua-in',
  'twin-envelope',
  'twin-approval',
  'twin-opcua-write',
].map((t) => join(dist, t));

export interface ClusterGateFlowOptions {
  instance: string;
  servers: string[];
  /** 1 for a single nats-server. */
  replicas: number;
  line: string;
  /** OPC UA endpoint of the plant as this instance reaches it (directly or through a relay). */
  endpoint: string;
  asset: string;
  /** zone2_sp value that makes the proposal (once per flow start). */
  trigger: number;
  proposalId: string;
  /** Env var holding the ledger's signing key in the child process. */
  keyEnv: string;
}

export function clusterGateFlow(o: ClusterGateFlowOptions): object[] {
  const item = (t: string) => ({ nodeId: `ns=1;s=extruder.${t}`, asset: o.asset, tag: t });
  const proposal = `
      if (msg.payload.value !== ${o.trigger} || context.get('sent')) return null;
      context.set('sent', true);
      const now = Date.now();
      return { topic: '${o.asset}/${GATE_TAG}', payload: {
        id: '${o.proposalId}', asset: '${o.asset}', tag: '${GATE_TAG}', currentValue: 190, proposedValue: 180, unit: 'degC',
        rationale: 'A lower zone 1 temperature cuts energy per kg while quality holds.',
        predictedEffect: { kpiTag: 'energy_per_kg', kpiUnit: 'kWh/kg', currentKpi: 0.31, predictedKpi: 0.3, lowKpi: 0.295,
          highKpi: 0.305, intervalPct: 90 },
        fit: { method: 'ols-quadratic', n: 120, r2: 0.93, rmse: 0.004 },
        fitRange: { fromTsMs: now - 3600000, toTsMs: now, setpointMin: 170, setpointMax: 210 },
        createdTsMs: now, expiresTsMs: now + 120000, quality: 'good' } };`;
  const opcuaIn = { type: 'twin-opcua-in', z: 't1', endpoint: 'ep', samplingIntervalMs: 200, deadband: 0, queueSize: 1, maxFutureMs: 5000 };
  return [
    { id: 't1', type: 'tab', label: o.instance },
    {
      id: 'c',
      type: 'twin-cluster',
      servers: o.servers.join(' '),
      instance: o.instance,
      lines: o.line,
      ttlS: 2,
      replicas: o.replicas,
      slack: 0,
    },
    { id: 'led', type: 'twin-ledger', storage: 'jetstream', cluster: 'c', line: o.line, waitS: 5, signingKeyEnv: o.keyEnv },
    { id: 'ep', type: 'twin-opcua-endpoint', endpointUrl: o.endpoint, securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous' },
    { id: 'in', ...opcuaIn, items: [item(GATE_TAG), item('mode'), item('alarm')], wires: [['gate']] },
    { id: 'trig', ...opcuaIn, items: [item(TRIGGER_TAG)], wires: [['mk']] },
    { id: 'mk', type: 'function', z: 't1', func: proposal, outputs: 1, wires: [['gate']] },
    {
      id: 'env',
      type: 'twin-envelope',
      asset: o.asset,
      tag: GATE_TAG,
      unit: 'degC',
      lowLimit: 160,
      highLimit: 240,
      maxStep: 2,
      rateUpPerMin: 600,
      rateDownPerMin: 600,
      minDwellMs: 2000,
      interlocks: [
        { tag: 'mode', op: '==', value: 1 },
        { tag: 'alarm', op: '==', value: 0 },
      ],
      inputTags: '',
      maxInputAgeMs: 30_000,
      minQuality: 'good',
      ramp: true,
      source: 'ep',
    },
    {
      id: 'gate',
      type: 'twin-approval',
      z: 't1',
      envelope: 'env',
      ledger: 'led',
      twoPersonAboveStep: '',
      autoApproval: true,
      autoApprovalMaxStep: 20,
      commandTtlMs: 60_000,
      wires: [['w'], []],
    },
    {
      id: 'w',
      type: 'twin-opcua-write',
      z: 't1',
      endpoint: 'ep',
      nodeId: `ns=1;s=extruder.${GATE_TAG}`,
      asset: o.asset,
      tag: GATE_TAG,
      envelope: 'env',
      ledger: 'led',
      readBackTimeoutMs: 2000,
      wires: [['gate'], []],
    },
  ];
}

/** The line's ledger as the stream holds it now (unverified: export and verify for that). */
export async function lineRecords(nats: NatsCluster, line: string): Promise<LedgerRecord[]> {
  const nc = await nats.connect();
  try {
    // a stream just made (or whose leader is being elected) may not answer yet: ask again
    return await retryTransient(async () => {
      try {
        const texts = await readStreamTexts(jetstream(nc), await jetstreamManager(nc), ledgerStreamName(line));
        return texts.map((t) => JSON.parse(t.text) as LedgerRecord);
      } catch (err) {
        if (/stream not found/i.test((err as Error).message)) return [];
        throw err;
      }
    });
  } finally {
    await nc.close();
  }
}

/** The instance of the latest 'owner' record. */
export const ownerOf = (recs: LedgerRecord[]): string | undefined =>
  (recs.filter((r) => r.type === 'owner').at(-1)?.data as { instance?: string } | undefined)?.instance;
