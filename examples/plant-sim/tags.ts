/**
 * The extruder's tag table: the one list the model, the OPC UA server, the MQTT publisher and the
 * tests agree on (notes/sim-contract.md). The Sparkplug alias of a tag is its 1-based index here,
 * so the ORDER IS PART OF THE CONTRACT: append new tags at the end, never reorder.
 */

export type TagKind =
  /** measured by an instrument: can carry sensor faults */
  | 'sensor'
  /** written by an operator or TwinLoop, checked against the PLC's hard limits */
  | 'setpoint'
  /** monotonic totaliser kept by the PLC */
  | 'counter'
  /** PLC state word */
  | 'status';

export type TagDataType = 'Double' | 'Int32' | 'UInt32';

export interface TagDef {
  name: string;
  unit: string;
  kind: TagKind;
  dataType: TagDataType;
  description: string;
  /** Engineering range for displays (OPC UA EURange). */
  euRange?: { low: number; high: number };
  /** PLC hard limits of a writable setpoint: a write outside is refused. */
  limits?: { low: number; high: number };
  /** Standard deviation of the instrument's noise, in the tag's unit. */
  noiseSd?: number;
}

export const TAGS = [
  {
    name: 'zone1_temp',
    unit: 'degC',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Barrel zone 1 (feed) temperature, thermocouple',
    euRange: { low: 0, high: 350 },
    noiseSd: 0.15,
  },
  {
    name: 'zone2_temp',
    unit: 'degC',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Barrel zone 2 (compression) temperature, thermocouple',
    euRange: { low: 0, high: 350 },
    noiseSd: 0.15,
  },
  {
    name: 'zone3_temp',
    unit: 'degC',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Barrel zone 3 (metering) temperature, thermocouple',
    euRange: { low: 0, high: 350 },
    noiseSd: 0.15,
  },
  {
    name: 'zone1_sp',
    unit: 'degC',
    kind: 'setpoint',
    dataType: 'Double',
    description: 'Zone 1 heater setpoint',
    euRange: { low: 150, high: 260 },
    limits: { low: 150, high: 260 },
  },
  {
    name: 'zone2_sp',
    unit: 'degC',
    kind: 'setpoint',
    dataType: 'Double',
    description: 'Zone 2 heater setpoint',
    euRange: { low: 150, high: 260 },
    limits: { low: 150, high: 260 },
  },
  {
    name: 'zone3_sp',
    unit: 'degC',
    kind: 'setpoint',
    dataType: 'Double',
    description: 'Zone 3 heater setpoint',
    euRange: { low: 150, high: 260 },
    limits: { low: 150, high: 260 },
  },
  {
    name: 'zone1_heater_kw',
    unit: 'kW',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Zone 1 heater power',
    euRange: { low: 0, high: 12 },
    noiseSd: 0.03,
  },
  {
    name: 'zone2_heater_kw',
    unit: 'kW',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Zone 2 heater power',
    euRange: { low: 0, high: 12 },
    noiseSd: 0.03,
  },
  {
    name: 'zone3_heater_kw',
    unit: 'kW',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Zone 3 heater power',
    euRange: { low: 0, high: 12 },
    noiseSd: 0.03,
  },
  {
    name: 'screw_speed',
    unit: 'rpm',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Screw speed (drive feedback)',
    euRange: { low: 0, high: 130 },
    noiseSd: 0.1,
  },
  {
    name: 'screw_speed_sp',
    unit: 'rpm',
    kind: 'setpoint',
    dataType: 'Double',
    description: 'Screw speed setpoint',
    euRange: { low: 0, high: 120 },
    limits: { low: 0, high: 120 },
  },
  {
    name: 'melt_pressure',
    unit: 'bar',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Melt pressure before the die',
    euRange: { low: 0, high: 400 },
    noiseSd: 1.0,
  },
  {
    name: 'melt_temp',
    unit: 'degC',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Melt temperature before the die',
    euRange: { low: 0, high: 350 },
    noiseSd: 0.2,
  },
  {
    name: 'motor_power',
    unit: 'kW',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Main drive power',
    euRange: { low: 0, high: 90 },
    noiseSd: 0.25,
  },
  {
    name: 'motor_current',
    unit: 'A',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Main drive current',
    euRange: { low: 0, high: 180 },
    noiseSd: 0.5,
  },
  {
    name: 'vibration',
    unit: 'mm/s',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Gearbox vibration velocity (RMS)',
    euRange: { low: 0, high: 30 },
    noiseSd: 0.08,
  },
  {
    name: 'throughput',
    unit: 'kg/h',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Mass throughput (gravimetric feeder)',
    euRange: { low: 0, high: 300 },
    noiseSd: 0.6,
  },
  { name: 'part_count', unit: 'count', kind: 'counter', dataType: 'UInt32', description: 'Parts cut since start' },
  { name: 'energy_kwh', unit: 'kWh', kind: 'counter', dataType: 'Double', description: 'Electrical energy since start (drive + heaters)' },
  {
    name: 'quality_index',
    unit: '%',
    kind: 'sensor',
    dataType: 'Double',
    description: 'Inline product quality (100 = perfect)',
    euRange: { low: 0, high: 100 },
    noiseSd: 0.3,
  },
  { name: 'mode', unit: '', kind: 'status', dataType: 'Int32', description: '1 = AUTO, 0 = MANUAL (after a trip)' },
  { name: 'alarm', unit: '', kind: 'status', dataType: 'Int32', description: '1 = a trip is active' },
  { name: 'mass_kg', unit: 'kg', kind: 'counter', dataType: 'Double', description: 'Product mass since start (feeder totaliser)' },
] as const satisfies readonly TagDef[];

export type TagName = (typeof TAGS)[number]['name'];
export const TAG_NAMES: readonly TagName[] = TAGS.map((t) => t.name);

const BY_NAME = new Map<string, TagDef>(TAGS.map((t) => [t.name, t]));

export function tagDef(name: string): TagDef | undefined {
  return BY_NAME.get(name);
}

export function isTagName(name: string): name is TagName {
  return BY_NAME.has(name);
}

/** Sparkplug B alias of a tag: its 1-based position in TAGS. */
export function sparkplugAlias(name: TagName): number {
  return TAG_NAMES.indexOf(name) + 1;
}

export const WRITABLE_TAGS = TAGS.filter((t) => t.kind === 'setpoint').map((t) => t.name) as TagName[];
export const SENSOR_TAGS = TAGS.filter((t) => t.kind === 'sensor').map((t) => t.name) as TagName[];

export const DEFAULT_PREFIX = 'demo/plant1/extrusion/line1';
export const ASSET_ID = 'extruder';
export const OPCUA_NAMESPACE_URI = 'urn:twinloop:plant-sim';
export const OPCUA_RESOURCE_PATH = '/UA/TwinLoopSim';
export const DEFAULT_OPCUA_PORT = 4840;
export const SPARKPLUG_GROUP_ID = 'plant1';
export const SPARKPLUG_EDGE_NODE_ID = 'line1';
export const SPARKPLUG_DEVICE_ID = 'extruder';

/** OPC UA node id of a tag: `ns=1;s=extruder.<tag>`. */
export function opcuaNodeId(tag: string): string {
  return `ns=1;s=${ASSET_ID}.${tag}`;
}
export const FAULT_COMMAND_NODE_ID = 'ns=1;s=sim.fault_command';

/** UNS asset path and JSON topic of a tag. */
export function assetPath(prefix = DEFAULT_PREFIX): string {
  return `${prefix}/${ASSET_ID}`;
}
export function unsTopic(tag: string, prefix = DEFAULT_PREFIX): string {
  return `${assetPath(prefix)}/${tag}`;
}
