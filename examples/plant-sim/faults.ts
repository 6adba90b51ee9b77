/**
 * Sensor faults, process disturbances and the simulator's text command language (used by the
 * OPC UA `sim.fault_command` variable and the CLI's stdin). Faults act on what the instruments
 * report, never on the process itself: detecting them is TwinLoop's job.
 */
import { SENSOR_TAGS, isTagName, tagDef, type TagName } from './tags.js';

export type SensorFaultKind = 'stuck' | 'drift' | 'spike' | 'dropout';
export const SENSOR_FAULT_KINDS: readonly SensorFaultKind[] = ['stuck', 'drift', 'spike', 'dropout'];

export interface SensorFault {
  tag: TagName;
  kind: SensorFaultKind;
  /** drift: offset growth in the tag's unit per hour (thermocouple de-calibration). */
  ratePerHour?: number;
  /** spike: outlier size in the tag's unit (sign is random). */
  magnitude?: number;
  /** spike: chance that one sample is an outlier. */
  probability?: number;
  /** Simulated time the fault began (set on injection). */
  startMs?: number;
}

export type DisturbanceKind = 'feed_starve' | 'screen_clog' | 'ambient_cold' | 'material_moisture';
export const DISTURBANCE_KINDS: readonly DisturbanceKind[] = ['feed_starve', 'screen_clog', 'ambient_cold', 'material_moisture'];
/** Level 0 = absent, 1 = severe. */
export type Disturbances = Record<DisturbanceKind, number>;
export const NO_DISTURBANCES: Disturbances = { feed_starve: 0, screen_clog: 0, ambient_cold: 0, material_moisture: 0 };

export type SimErrorCode = 'UNKNOWN_TAG' | 'NOT_WRITABLE' | 'OUT_OF_RANGE' | 'NOT_FINITE' | 'BAD_COMMAND';

/** A refused write or command; the plant state is unchanged. */
export class SimError extends Error {
  readonly code: SimErrorCode;
  constructor(code: SimErrorCode, message: string) {
    super(message);
    this.name = 'SimError';
    this.code = code;
  }
}

export type SimCommand =
  | { type: 'fault'; fault: SensorFault }
  | { type: 'clear'; tag?: TagName }
  | { type: 'disturb'; kind: DisturbanceKind; level: number }
  | { type: 'write'; tag: TagName; value: number }
  /** acknowledge a trip: back to AUTO if the cause is gone */
  | { type: 'reset' }
  /** maintenance done: wear and screen clogging back to zero, trip acknowledged */
  | { type: 'maintain' };

/** Spike size when none is given: 10 % of the tag's engineering span. */
export function defaultSpikeMagnitude(tag: TagName): number {
  const r = tagDef(tag)?.euRange;
  return r ? 0.1 * (r.high - r.low) : 10;
}

export function validateFault(f: SensorFault): SensorFault {
  if (!isTagName(f.tag)) throw new SimError('UNKNOWN_TAG', `unknown tag: ${String(f.tag)}`);
  if (!SENSOR_TAGS.includes(f.tag))
    throw new SimError('BAD_COMMAND', `${f.tag} is not a sensor tag; faults apply to: ${SENSOR_TAGS.join(', ')}`);
  if (!SENSOR_FAULT_KINDS.includes(f.kind))
    throw new SimError('BAD_COMMAND', `unknown fault kind: ${String(f.kind)} (use ${SENSOR_FAULT_KINDS.join('|')})`);
  for (const k of ['ratePerHour', 'magnitude', 'probability'] as const) {
    if (f[k] !== undefined && !Number.isFinite(f[k])) throw new SimError('NOT_FINITE', `${k} must be a finite number`);
  }
  if (f.probability !== undefined && (f.probability < 0 || f.probability > 1)) {
    throw new SimError('OUT_OF_RANGE', 'spike probability must be within 0..1');
  }
  return f;
}

function num(word: string | undefined, what: string): number {
  const n = Number(word);
  if (word === undefined || word.trim() === '' || !Number.isFinite(n))
    throw new SimError('BAD_COMMAND', `${what} must be a number, got ${word ?? 'nothing'}`);
  return n;
}

function tagArg(word: string | undefined): TagName {
  if (!word) throw new SimError('BAD_COMMAND', 'a tag name is required');
  if (!isTagName(word)) throw new SimError('UNKNOWN_TAG', `unknown tag: ${word}`);
  return word;
}

export const COMMAND_HELP = [
  'stuck <tag>                          sensor freezes at its present reading',
  'drift <tag> <unitsPerHour>           sensor offset grows linearly (e.g. drift zone1_temp 2)',
  'spike <tag> [magnitude] [prob=0.05]  isolated outliers on some samples',
  'dropout <tag>                        sensor lost: quality bad (BadSensorFailure)',
  'clear [tag]                          remove the fault on a tag, or all faults',
  'disturb <kind> <level 0..1>          feed_starve | screen_clog | ambient_cold | material_moisture',
  'set <tag> <value>                    write a setpoint (PLC limits apply)',
  'reset                                acknowledge a trip (back to AUTO if the cause is gone)',
  'maintain                             maintenance done: wear and screen clogging reset',
].join('\n');

/** Parse one text command, e.g. `drift zone1_temp 2` or `disturb feed_starve 0.5`. */
export function parseSimCommand(text: string): SimCommand {
  const words = String(text).trim().split(/\s+/).filter(Boolean);
  const [verb, a, b, c] = words;
  switch ((verb ?? '').toLowerCase()) {
    case 'stuck':
    case 'dropout':
      return { type: 'fault', fault: validateFault({ tag: tagArg(a), kind: verb.toLowerCase() as SensorFaultKind }) };
    case 'drift':
      return { type: 'fault', fault: validateFault({ tag: tagArg(a), kind: 'drift', ratePerHour: num(b, 'drift rate per hour') }) };
    case 'spike': {
      const tag = tagArg(a);
      return {
        type: 'fault',
        fault: validateFault({
          tag,
          kind: 'spike',
          magnitude: b === undefined ? defaultSpikeMagnitude(tag) : num(b, 'spike magnitude'),
          probability: c === undefined ? 0.05 : num(c, 'spike probability'),
        }),
      };
    }
    case 'clear':
      return a === undefined ? { type: 'clear' } : { type: 'clear', tag: tagArg(a) };
    case 'disturb': {
      if (!DISTURBANCE_KINDS.includes(a as DisturbanceKind))
        throw new SimError('BAD_COMMAND', `unknown disturbance: ${a ?? 'nothing'} (use ${DISTURBANCE_KINDS.join('|')})`);
      const level = num(b, 'disturbance level');
      if (level < 0 || level > 1) throw new SimError('OUT_OF_RANGE', 'disturbance level must be within 0..1');
      return { type: 'disturb', kind: a as DisturbanceKind, level };
    }
    case 'set':
    case 'write':
      return { type: 'write', tag: tagArg(a), value: num(b, 'value') };
    case 'reset':
      return { type: 'reset' };
    case 'maintain':
      return { type: 'maintain' };
    default:
      throw new SimError('BAD_COMMAND', `unknown command: ${verb ?? '(empty)'}; commands:\n${COMMAND_HELP}`);
  }
}
