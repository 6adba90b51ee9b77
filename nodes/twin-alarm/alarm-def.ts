/**
 * twin-alarm's editor fields → the AnomalyAlarms config (runtime/alarm/anomaly-alarms.ts), and the
 * localised-text helper. Kept apart from the node file, whose only export must be the registration function.
 */
import type { NodeDef } from 'node-red';
import type { AnomalyAlarmsConfig } from '../../runtime/alarm/anomaly-alarms.js';
import type { AlarmConfig, AlarmConsequence } from '../../runtime/alarm/types.js';
import type { AnomalyConfig } from '../../runtime/anomaly/detector.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator as sharedTranslator } from '../shared/i18n.js';
import { tagList } from '../../runtime/model/tag-pattern.js';

export interface TwinAlarmDef extends NodeDef {
  /** Message property the Reading or Estimate is read from; blank = payload. */
  property?: string;
  /** 'auto' (blank): the twin's residual for an Estimate with a prediction, the learned baseline for a Reading. */
  method?: string;
  /** On-delay of learned-baseline tags in ms; blank = the runtime default (120 s). */
  baselineOnDelayMs?: string | number;
  /** Watched tags: names or `asset/tag` globs, separated by commas or new lines; blank = every tag. */
  watch?: string;
  /** Known inputs (setpoints): names or globs; blank = the runtime's setpoint names (`*_sp`, …). */
  knownInputs?: string;
  /** Earlier name of `knownInputs`, still read. Not an editor field: the editor takes `inputs` for the number of input ports. */
  inputs?: string;
  /** Settling window after a known input changes, in ms; blank = the runtime default (10 min). */
  settleMs?: string | number;
  /** Most tags kept (flow JSON; default 10,000). */
  maxTags?: string | number;
  /** One alarm per process-change episode of an asset; blank/true = on. */
  groupConsequential?: boolean | string;
  /** Durations in ms (the dialog shows them in s/min/h); blank = the runtime default. */
  onDelayMs?: string | number;
  offDelayMs?: string | number;
  deadband?: string | number;
  chatterCount?: string | number;
  chatterWindowMs?: string | number;
  releaseMs?: string | number;
  consequence?: string;
  defaultShelveMs?: string | number;
  maxShelveMs?: string | number;
  /** Detector: false alarms per day its threshold allows, and readings learned before it decides. */
  alarmsPerDay?: string | number;
  learnSamples?: string | number;
  /** Rate figures on output 2 every this many ms (0 or blank: never). */
  ratesEveryMs?: string | number;
  /** Root tags: `{ id: 'asset/tag', children: 'a/*, b/c' }` rows. */
  roots?: { id?: string; children?: string | string[] }[];
  /** Consequence per alarm: `{ id: 'asset/tag', consequence }` rows. */
  consequences?: { id?: string; consequence?: string }[];
  /** Optional twin-ledger config node: operator actions (ack, shelve, unshelve) are appended to its audit ledger. */
  ledger?: string;
  /** Optional twin-cluster config node: alarm only while this instance owns `line`. */
  cluster?: string;
  /** 'site/area/line' the readings belong to (with `cluster`). */
  line?: string;
  /** With a cluster: the state is saved to the cluster's KV every this many seconds (0: never, nor restored). */
  snapshotS?: string | number;
  /** Flow JSON only: the state's key beside the line (blank: the node id, the same on every instance of one flows file). */
  stateKey?: string;
}

/** Default period of the state snapshots to the cluster's KV. */
export const SNAPSHOT_S = 30;

/** The snapshot period in ms (0: off) of a node with a cluster. */
export function snapshotEveryMs(def: TwinAlarmDef): number {
  return (optNumber(def.snapshotS, 'snapshot period', 0) ?? SNAPSHOT_S) * 1000;
}

function optNumber(v: unknown, name: string, min: number): number | undefined {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  const x = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(x) || x < min) throw new TwinError('BAD_CONFIG', `${name} must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return x;
}

/** Drop absent keys so the runtime defaults apply. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The AnomalyAlarms config from the node's settings (value checks are the runtime's). */
export function configFromDef(def: TwinAlarmDef): Partial<AnomalyAlarmsConfig> {
  if (def.roots !== undefined && !Array.isArray(def.roots)) throw new TwinError('BAD_CONFIG', 'root tags must be a list');
  if (def.consequences !== undefined && !Array.isArray(def.consequences)) throw new TwinError('BAD_CONFIG', 'consequences must be a list');
  const alarm = defined<AlarmConfig>({
    onDelayMs: optNumber(def.onDelayMs, 'on-delay', 0),
    offDelayMs: optNumber(def.offDelayMs, 'off-delay', 0),
    deadband: optNumber(def.deadband, 'deadband', 0),
    chatterCount: optNumber(def.chatterCount, 'chattering count', 0),
    chatterWindowMs: optNumber(def.chatterWindowMs, 'chattering window', 0),
    releaseMs: optNumber(def.releaseMs, 'suppression release', 0),
    consequence: (def.consequence || undefined) as AlarmConsequence,
  } as AlarmConfig);
  const detector = defined<AnomalyConfig>({
    alarmsPerDay: optNumber(def.alarmsPerDay, 'false alarms per day', 0),
    learnSamples: optNumber(def.learnSamples, 'learning readings', 1),
  } as AnomalyConfig);
  const consequences: Record<string, AlarmConsequence> = {};
  for (const c of def.consequences ?? []) {
    const id = String(c?.id ?? '').trim();
    if (id !== '') consequences[id] = String(c.consequence ?? '') as AlarmConsequence;
  }
  return defined<AnomalyAlarmsConfig>({
    method: (String(def.method ?? '').trim() || undefined) as AnomalyAlarmsConfig['method'],
    baselineOnDelayMs: optNumber(def.baselineOnDelayMs, 'learned-baseline on-delay', 0),
    watch: tagList(def.watch),
    ...(tagList(def.knownInputs ?? def.inputs).length ? { inputs: tagList(def.knownInputs ?? def.inputs) } : {}),
    settleMs: optNumber(def.settleMs, 'settling time', 0),
    maxTags: optNumber(def.maxTags, 'max tags', 1),
    groupConsequential: def.groupConsequential === false || def.groupConsequential === 'false' ? false : undefined,
    alarm,
    detector,
    roots: (def.roots ?? [])
      .filter((r) => r && String(r.id ?? '').trim() !== '')
      .map((r) => ({ id: String(r.id).trim(), children: tagList(r.children) })),
    consequences,
    defaultShelveMs: optNumber(def.defaultShelveMs, 'default shelving time', 1),
    maxShelveMs: optNumber(def.maxShelveMs, 'longest shelving', 1),
  } as AnomalyAlarmsConfig);
}

/** Rate figures period in ms, 0 = off. */
export function ratesEveryMs(def: TwinAlarmDef): number {
  return optNumber(def.ratesEveryMs, 'rate figures period', 0) ?? 0;
}

/** Localised text for twin-alarm (RED._, else its en-US catalogue: nodes/shared/i18n.ts). */
export function translator(i18n: (key: string, vars?: Record<string, unknown>) => string) {
  return sharedTranslator(i18n, 'twin-alarm');
}
