/**
 * Pure process model of a single-screw extrusion line (pipe extrusion, PE-like melt).
 *
 *   step(state, dtMs)        → state    the true process, advanced by dtMs of simulated time
 *   sample(state)            → { state, readings }   what the instruments report right now
 *   applyCommand(state, cmd) → state    setpoint writes, faults, disturbances (throws SimError if refused)
 *
 * No clocks, no I/O, no Math.random: all randomness comes from the seeded PRNG held in the state,
 * so (seed, startTsMs, options, the sequence of commands) fixes every value.
 */
import { Rng, seedRng } from './rng.js';
import { NO_DISTURBANCES, SimError, validateFault, type Disturbances, type SensorFault, type SimCommand } from './faults.js';
import { TAGS, TAG_NAMES, tagDef, type TagName } from './tags.js';

export type SampleQuality = 'good' | 'bad';

export interface TagSample {
  value: number;
  quality: SampleQuality;
  /** OPC UA status name when not good, e.g. `BadSensorFailure`. */
  qualityReason?: string;
}
export type Readings = Record<TagName, TagSample>;

/** Physical constants of the line. Exported so tests can check behaviour against them. */
export const PLANT = {
  ambientDegC: 25,
  /** Closed-loop (PID-tuned) time constants of the three barrel zones. */
  zoneTauS: [150, 120, 100] as const,
  /** Barrel heat loss to the room, per zone. */
  zoneLossKwPerK: 0.025,
  /** Heat capacity of a barrel zone (≈40 kg of steel). */
  zoneCapacityKjPerK: 20,
  heaterMaxKw: 12,
  /** Share of the drive's power that ends up in the barrel wall (viscous dissipation), per zone. */
  shearToBarrelShare: [0.02, 0.05, 0.08] as const,
  screwTauS: 2,
  nominalRpm: 80,
  /** Drag flow of a full screw. */
  throughputKgphPerRpm: 2.0,
  meltTauS: 20,
  /** Melt temperature is a weighted mix of the zones plus viscous heating that grows with speed. */
  meltZoneWeights: [0.15, 0.35, 0.5] as const,
  meltShearKPerRpm: 0.15,
  meltTargetDegC: 220,
  pressureTauS: 1,
  pressureNominalBar: 170,
  specificEnergyKwhPerKg: 0.16,
  motorIdleKw: 3,
  motorFrictionKwPerRpm: 0.05,
  /** 400 V drive: I = P / (√3 · U · cosφ · η) plus magnetising current. */
  motorAmpsPerKw: 1000 / (Math.sqrt(3) * 400 * 0.88 * 0.93),
  motorMagnetisingA: 8,
  partMassKg: 0.8,
  /** PLC trips (alarm = 1, mode = MANUAL, drive stopped). */
  tripVibrationMmS: 11.2,
  tripPressureBar: 350,
  tripMotorKw: 80,
  /** Time for the screen changer to clog completely at disturbance level 1. */
  screenClogFullH: 2,
} as const;

export interface PlantConfig {
  seed: number;
  startTsMs: number;
  /** Simulated days at nominal speed until the gearbox bearing fails (wear = 1). */
  daysToFailure: number;
  /** Initial wear 0..1 (a line that has already been running). */
  initialWear?: number;
}

export interface PlantState {
  tMs: number;
  rng: number;
  daysToFailure: number;
  // inputs held by the PLC
  zoneSpDegC: [number, number, number];
  screwSpeedSpRpm: number;
  disturbances: Disturbances;
  faults: readonly SensorFault[];
  // true process values
  zoneTempDegC: [number, number, number];
  heaterKw: [number, number, number];
  screwSpeedRpm: number;
  meltTempDegC: number;
  meltPressureBar: number;
  motorPowerKw: number;
  motorCurrentA: number;
  vibrationMmS: number;
  throughputKgph: number;
  qualityIndexPct: number;
  /** 0 = new, 1 = bearing failure. */
  wear: number;
  /** Screen-pack clogging 0..1 (raises die resistance). */
  screenClog: number;
  massKg: number;
  energyKwh: number;
  mode: 0 | 1;
  alarm: 0 | 1;
  tripReason?: string;
  // instrument memory
  /** Value a stuck sensor froze at. */
  stuckAt: Partial<Record<TagName, number>>;
  /** Last reported value of each tag (a dropped-out sensor holds it, flagged bad). */
  lastReported: Partial<Record<TagName, number>>;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
/** Exact first-order lag over dt (stable for any dt). */
const lag = (x: number, target: number, dtS: number, tauS: number) => target + (x - target) * Math.exp(-dtS / tauS);

/** Melt viscosity relative to the nominal melt temperature (Arrhenius-like: hotter flows easier). */
function viscosityFactor(meltTempDegC: number): number {
  return Math.exp(-(meltTempDegC - PLANT.meltTargetDegC) / 45);
}

interface Algebraic {
  throughputKgph: number;
  meltTempTargetDegC: number;
  meltPressureTargetBar: number;
  motorPowerKw: number;
}

/** The relations that follow the screw speed, zones and melt instantly (or with short lags). */
function algebraic(s: PlantState, screwRpm: number, meltTempDegC: number, extraPressureBar = 0): Algebraic {
  const d = s.disturbances;
  // A starved feed throat fills the screw only partly; a worn screw leaks melt back over the flights.
  const fill = 1 - 0.6 * d.feed_starve;
  const throughputKgph = Math.max(0, PLANT.throughputKgphPerRpm * screwRpm * fill * (1 - 0.1 * s.wear));
  const meltTempTargetDegC =
    PLANT.meltZoneWeights[0] * s.zoneTempDegC[0] +
    PLANT.meltZoneWeights[1] * s.zoneTempDegC[1] +
    PLANT.meltZoneWeights[2] * s.zoneTempDegC[2] +
    PLANT.meltShearKPerRpm * screwRpm;
  const eta = viscosityFactor(meltTempDegC);
  // Die pressure: power-law flow through the die; a clogging screen adds resistance.
  const nominalKgph = PLANT.throughputKgphPerRpm * PLANT.nominalRpm;
  const meltPressureTargetBar =
    PLANT.pressureNominalBar * Math.pow(throughputKgph / nominalKgph, 0.7) * Math.pow(eta, 0.8) * (1 + 1.5 * s.screenClog) +
    extraPressureBar;
  // Drive power: specific energy per kg (more for a stiffer melt) + friction; wear adds bearing/gearbox losses.
  const running = screwRpm > 0.5;
  const motorPowerKw = running
    ? (PLANT.motorIdleKw + PLANT.motorFrictionKwPerRpm * screwRpm + PLANT.specificEnergyKwhPerKg * Math.sqrt(eta) * throughputKgph) *
      (1 + 0.35 * s.wear * s.wear)
    : 0;
  return { throughputKgph, meltTempTargetDegC, meltPressureTargetBar: Math.max(0, meltPressureTargetBar), motorPowerKw };
}

function vibrationOf(screwRpm: number, wear: number): number {
  // Gearbox bearing: vibration velocity grows slowly at first, then fast (spalling), and scales with speed.
  const bearing = 1.2 + 10.5 * Math.pow(wear, 3) + (wear >= 1 ? 8 : 0);
  return 0.3 + (screwRpm / PLANT.nominalRpm) * bearing;
}

function qualityOf(s: PlantState, throughputKgph: number, meltTempDegC: number, vibrationMmS: number): number {
  if (throughputKgph < 5) return 0; // nothing produced, nothing to grade
  const d = s.disturbances;
  let q = 100;
  q -= 1.5 * Math.max(0, Math.abs(meltTempDegC - PLANT.meltTargetDegC) - 3); // wall thickness / surface
  q -= 25 * d.material_moisture; // bubbles, splay
  q -= 30 * d.feed_starve; // surging → dimension variation
  q -= 3 * Math.max(0, vibrationMmS - 4.5); // chatter marks
  return clamp(q, 0, 100);
}

/** A line in steady state at the nominal operating point. */
export function initialState(cfg: PlantConfig): PlantState {
  if (!Number.isFinite(cfg.daysToFailure) || cfg.daysToFailure <= 0) throw new SimError('OUT_OF_RANGE', 'daysToFailure must be > 0');
  const zoneSpDegC: [number, number, number] = [190, 205, 215];
  const s: PlantState = {
    tMs: cfg.startTsMs,
    rng: seedRng(cfg.seed),
    daysToFailure: cfg.daysToFailure,
    zoneSpDegC,
    screwSpeedSpRpm: PLANT.nominalRpm,
    disturbances: { ...NO_DISTURBANCES },
    faults: [],
    zoneTempDegC: [...zoneSpDegC],
    heaterKw: [0, 0, 0],
    screwSpeedRpm: PLANT.nominalRpm,
    meltTempDegC: 0,
    meltPressureBar: 0,
    motorPowerKw: 0,
    motorCurrentA: 0,
    vibrationMmS: 0,
    throughputKgph: 0,
    qualityIndexPct: 0,
    wear: clamp(cfg.initialWear ?? 0, 0, 1),
    screenClog: 0,
    massKg: 0,
    energyKwh: 0,
    mode: 1,
    alarm: 0,
    stuckAt: {},
    lastReported: {},
  };
  // Solve the melt temperature's fixed point (it depends on viscosity only through pressure/power).
  let a = algebraic(s, s.screwSpeedRpm, PLANT.meltTargetDegC);
  s.meltTempDegC = a.meltTempTargetDegC;
  a = algebraic(s, s.screwSpeedRpm, s.meltTempDegC);
  s.throughputKgph = a.throughputKgph;
  s.meltPressureBar = a.meltPressureTargetBar;
  s.motorPowerKw = a.motorPowerKw;
  s.motorCurrentA = PLANT.motorMagnetisingA + PLANT.motorAmpsPerKw * a.motorPowerKw;
  s.vibrationMmS = vibrationOf(s.screwSpeedRpm, s.wear);
  s.heaterKw = zoneHeat(s, zoneSpDegC, 0).heaterKw;
  s.qualityIndexPct = qualityOf(s, s.throughputKgph, s.meltTempDegC, s.vibrationMmS);
  return s;
}

/**
 * Barrel zones: the PID-controlled zone follows its setpoint as a first-order lag (closed loop);
 * the heater supplies whatever the energy balance C·dT/dt = P + shear − loss asks for, within
 * 0..heaterMaxKw. When the heater saturates, the temperature follows the open-loop balance instead
 * (slow cooling through losses only, or a rate-limited heat-up).
 */
function zoneHeat(
  s: PlantState,
  prevTemps: readonly number[],
  dtS: number,
): { temps: [number, number, number]; heaterKw: [number, number, number] } {
  const ambient = PLANT.ambientDegC - 15 * s.disturbances.ambient_cold;
  const temps: [number, number, number] = [0, 0, 0];
  const heaterKw: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const t0 = prevTemps[i];
    const shearKw = PLANT.shearToBarrelShare[i] * s.motorPowerKw;
    const lossKw = PLANT.zoneLossKwPerK * (t0 - ambient);
    let t1 = dtS > 0 ? lag(t0, s.zoneSpDegC[i], dtS, PLANT.zoneTauS[i]) : t0;
    const dTdtKps = dtS > 0 ? (t1 - t0) / dtS : 0;
    let p = PLANT.zoneCapacityKjPerK * dTdtKps + lossKw - shearKw;
    if (p > PLANT.heaterMaxKw || p < 0) {
      p = clamp(p, 0, PLANT.heaterMaxKw);
      t1 = t0 + ((p + shearKw - lossKw) / PLANT.zoneCapacityKjPerK) * dtS;
    }
    temps[i] = t1;
    heaterKw[i] = p;
  }
  return { temps, heaterKw };
}

/** Advance the true process by dtMs of simulated time. */
export function step(prev: PlantState, dtMs: number): PlantState {
  const dtS = dtMs / 1000;
  const rng = new Rng(prev.rng);
  const s: PlantState = { ...prev };
  const d = s.disturbances;

  // Screen clogs while the disturbance lasts (contamination in the recycled feed).
  if (d.screen_clog > 0) s.screenClog = clamp(s.screenClog + (d.screen_clog * dtS) / (PLANT.screenClogFullH * 3600), 0, 1);

  // Drive: follows its setpoint unless a trip has stopped it (interlock).
  const targetRpm = s.alarm ? 0 : s.screwSpeedSpRpm;
  s.screwSpeedRpm = lag(s.screwSpeedRpm, targetRpm, dtS, PLANT.screwTauS);
  if (s.screwSpeedRpm < 0.01 && targetRpm === 0) s.screwSpeedRpm = 0;

  const zones = zoneHeat(s, prev.zoneTempDegC, dtS);
  s.zoneTempDegC = zones.temps;
  s.heaterKw = zones.heaterKw;

  // Wet material flashes to steam in the barrel: pressure surges.
  const surgeBar = d.material_moisture > 0 ? 8 * d.material_moisture * rng.normal() : 0;
  const a = algebraic(s, s.screwSpeedRpm, s.meltTempDegC, surgeBar);
  s.throughputKgph = a.throughputKgph;
  s.meltTempDegC = lag(s.meltTempDegC, a.meltTempTargetDegC, dtS, PLANT.meltTauS);
  s.meltPressureBar = lag(s.meltPressureBar, a.meltPressureTargetBar, dtS, PLANT.pressureTauS);
  s.motorPowerKw = a.motorPowerKw;
  s.motorCurrentA = a.motorPowerKw > 0 ? PLANT.motorMagnetisingA + PLANT.motorAmpsPerKw * a.motorPowerKw : 0;

  // Wear accrues with running (faster when faster); days-to-failure is at nominal speed.
  const load = s.screwSpeedRpm / PLANT.nominalRpm;
  s.wear = Math.min(1, s.wear + (dtMs * load) / (s.daysToFailure * 86_400_000));
  s.vibrationMmS = vibrationOf(s.screwSpeedRpm, s.wear);
  s.qualityIndexPct = qualityOf(s, s.throughputKgph, s.meltTempDegC, s.vibrationMmS);

  s.massKg += (s.throughputKgph * dtS) / 3600;
  s.energyKwh += ((s.motorPowerKw + s.heaterKw[0] + s.heaterKw[1] + s.heaterKw[2]) * dtS) / 3600;

  if (!s.alarm) {
    const reason =
      s.vibrationMmS > PLANT.tripVibrationMmS
        ? 'vibration high'
        : s.meltPressureBar > PLANT.tripPressureBar
          ? 'melt pressure high'
          : s.motorPowerKw > PLANT.tripMotorKw
            ? 'drive overload'
            : undefined;
    if (reason) {
      s.alarm = 1;
      s.mode = 0;
      s.tripReason = reason;
    }
  }
  s.tMs = prev.tMs + dtMs;
  s.rng = rng.state;
  return s;
}

/** The true value of every tag (what a perfect instrument would report). */
export function trueValues(s: PlantState): Record<TagName, number> {
  return {
    zone1_temp: s.zoneTempDegC[0],
    zone2_temp: s.zoneTempDegC[1],
    zone3_temp: s.zoneTempDegC[2],
    zone1_sp: s.zoneSpDegC[0],
    zone2_sp: s.zoneSpDegC[1],
    zone3_sp: s.zoneSpDegC[2],
    zone1_heater_kw: s.heaterKw[0],
    zone2_heater_kw: s.heaterKw[1],
    zone3_heater_kw: s.heaterKw[2],
    screw_speed: s.screwSpeedRpm,
    screw_speed_sp: s.screwSpeedSpRpm,
    melt_pressure: s.meltPressureBar,
    melt_temp: s.meltTempDegC,
    motor_power: s.motorPowerKw,
    motor_current: s.motorCurrentA,
    vibration: s.vibrationMmS,
    throughput: s.throughputKgph,
    part_count: Math.floor(s.massKg / PLANT.partMassKg),
    energy_kwh: s.energyKwh,
    quality_index: s.qualityIndexPct,
    mode: s.mode,
    alarm: s.alarm,
    mass_kg: s.massKg,
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Read every instrument once: true value + instrument noise, then the active sensor faults.
 * Called at each publish instant (spikes are per sample).
 */
export function sample(prev: PlantState): { state: PlantState; readings: Readings } {
  const rng = new Rng(prev.rng);
  const truth = trueValues(prev);
  const stuckAt = { ...prev.stuckAt };
  const lastReported = { ...prev.lastReported };
  const readings = {} as Readings;
  const faultOf = new Map(prev.faults.map((f) => [f.tag, f]));
  for (const def of TAGS) {
    const tag = def.name;
    let value: number = truth[tag];
    if (def.kind === 'sensor') {
      const sd = (def as { noiseSd?: number }).noiseSd ?? 0;
      value += sd * rng.normal();
      if (def.euRange) value = Math.max(def.euRange.low === 0 ? 0 : -Infinity, value); // a power or a flow never reads negative
    }
    if (tag === 'quality_index') value = clamp(value, 0, 100); // the gauge's scale ends at 100 %
    value = def.dataType === 'Double' ? round3(value) : Math.round(value);
    const f = faultOf.get(tag);
    let quality: SampleQuality = 'good';
    if (f) {
      switch (f.kind) {
        case 'stuck':
          if (stuckAt[tag] === undefined) stuckAt[tag] = lastReported[tag] ?? value;
          value = stuckAt[tag]!;
          break;
        case 'drift':
          value = round3(value + ((f.ratePerHour ?? 0) * (prev.tMs - (f.startMs ?? prev.tMs))) / 3_600_000);
          break;
        case 'spike':
          if (rng.uniform() < (f.probability ?? 0.05)) value = round3(value + (rng.uniform() < 0.5 ? -1 : 1) * (f.magnitude ?? 10));
          break;
        case 'dropout':
          // The PLC holds the last value and flags the channel (open thermocouple / broken wire).
          value = lastReported[tag] ?? value;
          quality = 'bad';
          break;
      }
    }
    if (quality === 'good') lastReported[tag] = value;
    readings[tag] = quality === 'good' ? { value, quality } : { value, quality, qualityReason: 'BadSensorFailure' };
  }
  return { state: { ...prev, rng: rng.state, stuckAt, lastReported }, readings };
}

/** Check a setpoint write against the PLC's hard limits; returns the error or undefined. */
export function checkWrite(tag: string, value: unknown): SimError | undefined {
  const def = tagDef(tag);
  if (!def) return new SimError('UNKNOWN_TAG', `unknown tag: ${tag}`);
  if (def.kind !== 'setpoint' || !def.limits) return new SimError('NOT_WRITABLE', `${tag} is not writable`);
  if (typeof value !== 'number' || !Number.isFinite(value)) return new SimError('NOT_FINITE', `${tag}: value must be a finite number`);
  if (value < def.limits.low || value > def.limits.high) {
    return new SimError('OUT_OF_RANGE', `${tag}=${value} is outside the PLC limits ${def.limits.low}..${def.limits.high} ${def.unit}`);
  }
  return undefined;
}

/** Apply one command; throws SimError (state untouched) when the PLC refuses it. */
export function applyCommand(s: PlantState, cmd: SimCommand): PlantState {
  switch (cmd.type) {
    case 'write': {
      const err = checkWrite(cmd.tag, cmd.value);
      if (err) throw err;
      if (cmd.tag === 'screw_speed_sp') return { ...s, screwSpeedSpRpm: cmd.value };
      const i = ['zone1_sp', 'zone2_sp', 'zone3_sp'].indexOf(cmd.tag);
      const zoneSpDegC = [...s.zoneSpDegC] as [number, number, number];
      zoneSpDegC[i] = cmd.value;
      return { ...s, zoneSpDegC };
    }
    case 'fault': {
      const f = validateFault({ ...cmd.fault, startMs: s.tMs });
      const stuckAt = { ...s.stuckAt };
      delete stuckAt[f.tag];
      return { ...s, faults: [...s.faults.filter((x) => x.tag !== f.tag), f], stuckAt };
    }
    case 'clear':
      return cmd.tag
        ? { ...s, faults: s.faults.filter((x) => x.tag !== cmd.tag), stuckAt: { ...s.stuckAt, [cmd.tag]: undefined } }
        : { ...s, faults: [], stuckAt: {} };
    case 'disturb': {
      if (!(cmd.level >= 0 && cmd.level <= 1)) throw new SimError('OUT_OF_RANGE', 'disturbance level must be within 0..1');
      const next = { ...s, disturbances: { ...s.disturbances, [cmd.kind]: cmd.level } };
      if (cmd.kind === 'screen_clog' && cmd.level === 0) next.screenClog = 0; // screen changed
      return next;
    }
    case 'reset': {
      // Acknowledge: only clears if the trip cause is gone at standstill.
      if (!s.alarm) return s;
      if (s.wear >= 1) throw new SimError('BAD_COMMAND', 'cannot reset: bearing failed (wear = 1); run `maintain` first');
      return { ...s, alarm: 0, mode: 1, tripReason: undefined };
    }
    case 'maintain':
      return { ...s, wear: 0, screenClog: 0, alarm: 0, mode: 1, tripReason: undefined };
  }
}

export { TAG_NAMES };
