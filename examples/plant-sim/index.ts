/**
 * The TwinLoop plant simulator: the extrusion-line model (model.ts) driven in fixed simulated
 * steps, published over OPC UA and MQTT (JSON UNS + Sparkplug B).
 *
 * Time: the model always advances in whole `stepMs` steps of simulated time, and samples are taken
 * every `publishIntervalMs` of simulated time counted from `startTsMs`. The wall-clock driver only
 * decides how many steps to run (speed × elapsed wall time), so the speed factor never changes the
 * values, only how fast they come. With speed > 1 the simulated event time runs AHEAD of the wall
 * clock (after 1 min at speed 10 the source timestamps are 9 min in the future): ingestion nodes
 * that reject future timestamps need a max-future tolerance large enough, or start the simulator
 * with a `startTsMs` in the past.
 */
import { mkdtempSync } from 'node:fs';
import { freePort as pickFreePort } from '../../bin/lib/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSimCommand, SimError, type DisturbanceKind, type SensorFault, type SimCommand } from './faults.js';
import { trueValues, type PlantState, type Readings } from './model.js';
import { PlantEngine, type PlantModelOptions } from './engine.js';
import { startOpcuaServer, type SimOpcuaServer } from './opcua-server.js';
import { startMqttPublisher, type SimMqttPublisher } from './mqtt-publisher.js';
import {
  DEFAULT_OPCUA_PORT,
  DEFAULT_PREFIX,
  SPARKPLUG_DEVICE_ID,
  SPARKPLUG_EDGE_NODE_ID,
  SPARKPLUG_GROUP_ID,
  assetPath,
  type TagName,
} from './tags.js';

export * from './tags.js';
export * from './faults.js';
export { PLANT, step, sample, trueValues, initialState, applyCommand, checkWrite } from './model.js';
export type { PlantState, Readings, TagSample } from './model.js';
export * from './engine.js';

export interface PlantSimOptions extends PlantModelOptions {
  /** false: no OPC UA server. */
  opcua?: boolean;
  /** OPC UA port (default 4840); 0 picks a free port. */
  opcuaPort?: number;
  /** Host in the endpoint URL (default 127.0.0.1). */
  opcuaHostname?: string;
  /** Server PKI folder (default $TWINLOOP_HOME/pki/plant-sim, else a temp dir). */
  pkiDir?: string;
  /** Optional user/password (default env TWINLOOP_SIM_USER / TWINLOOP_SIM_PASSWORD). */
  opcuaUser?: string;
  opcuaPassword?: string;
  /** Allow anonymous sessions (default true). */
  allowAnonymous?: boolean;
  /** Broker URL; absent = no MQTT. */
  mqttUrl?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  /** Publish the unified-namespace JSON topics (default true). */
  mqttJson?: boolean;
  /** Publish Sparkplug B (default true). */
  sparkplug?: boolean;
  sparkplugGroupId?: string;
  sparkplugEdgeNodeId?: string;
  sparkplugDeviceId?: string;
  /** UNS prefix (default demo/plant1/extrusion/line1). */
  prefix?: string;
  /** Simulated ms per wall ms (default 1). */
  speed?: number;
  /**
   * Operator actions at offsets of simulated time from the start (e.g. a commissioning step test of
   * a setpoint: `{ atMs: 600000, command: 'set zone3_sp 211' }`), applied at the first sample due.
   */
  schedule?: Array<{ atMs: number; command: string | SimCommand }>;
  /**
   * Run the first `simMs` of simulated time at `speed` (e.g. a commissioning step test in the first
   * minute of a demo), then at the normal speed. The simulated clock starts early by the time gained,
   * so it meets the wall clock when the warm-up ends (readings are never from the future).
   */
  warmup?: { simMs: number; speed: number };
  /** Told of every setpoint write the PLC accepted (OPC UA, Sparkplug DCMD or `write`), e.g. to count writes. */
  onSetpointWrite?: (tag: TagName, value: number) => void;
  /** 'wall' (default): runs by itself; 'manual': only `advance()` moves time (for tests). */
  clock?: 'wall' | 'manual';
  log?: (line: string) => void;
}

export interface PlantSnapshot {
  tsMs: number;
  readings: Readings;
  truth: Record<TagName, number>;
  wear: number;
  screenClog: number;
  tripReason?: string;
  faults: readonly SensorFault[];
  disturbances: PlantState['disturbances'];
}

export interface PlantSim {
  /** `opc.tcp://127.0.0.1:<port>/UA/TwinLoopSim`, undefined without OPC UA. */
  opcuaEndpoint?: string;
  opcuaCertificateFile?: string;
  /** UNS asset path (`<prefix>/extruder`); JSON topics are `<asset>/<tag>`. */
  asset: string;
  jsonTopicFilter: string;
  sparkplugTopicFilter: string;
  readonly simTimeMs: number;
  readonly mqtt?: SimMqttPublisher;
  injectFault(fault: SensorFault): void;
  clearFaults(tag?: TagName): void;
  setDisturbance(kind: DisturbanceKind, level: number): void;
  /** Write a setpoint as the PLC would (throws SimError outside the hard limits). */
  write(tag: TagName, value: number): void;
  /** A text command (see COMMAND_HELP). */
  command(text: string | SimCommand): void;
  snapshot(): PlantSnapshot;
  /** Run `simMs` of simulated time now (samples are published as they fall due). */
  advance(simMs: number): void;
  /** Called with every sample (after OPC UA / MQTT got it). */
  onSample(listener: (tsMs: number, readings: Readings) => void): () => void;
  stop(): Promise<void>;
}

function defaultPkiDir(): string {
  const home = process.env.TWINLOOP_HOME;
  return home ? join(home, 'pki', 'plant-sim') : mkdtempSync(join(tmpdir(), 'twinloop-sim-pki-'));
}

/** Start the simulator: model + (optional) OPC UA server + (optional) MQTT publisher. */
export async function startPlantSim(options: PlantSimOptions = {}): Promise<PlantSim> {
  const log = options.log ?? (() => undefined);
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new SimError('OUT_OF_RANGE', 'speed must be a positive number');
  const prefix = (options.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '');
  if (!prefix || /[#+]/.test(prefix)) throw new SimError('BAD_COMMAND', 'prefix must be a non-empty MQTT topic without wildcards');
  const listeners = new Set<(tsMs: number, readings: Readings) => void>();
  let opcua: SimOpcuaServer | undefined;
  let mqtt: SimMqttPublisher | undefined;
  const fanOut = (tsMs: number, readings: Readings) => {
    opcua?.publish(tsMs, readings);
    mqtt?.publish(tsMs, readings);
    for (const l of listeners) l(tsMs, readings);
  };
  const warmup = options.warmup;
  if (warmup && !(warmup.simMs >= 0 && warmup.speed > 0 && Number.isFinite(warmup.speed))) {
    throw new SimError('OUT_OF_RANGE', 'warmup needs simMs >= 0 and a positive speed');
  }
  const startTsMs = options.startTsMs ?? (warmup ? Date.now() - Math.round(warmup.simMs * (1 - 1 / warmup.speed)) : undefined);
  const engine = new PlantEngine({ ...options, startTsMs }, fanOut);

  const write = (tag: TagName, value: number) => {
    engine.apply({ type: 'write', tag, value });
    opcua?.update(tag, value, engine.state.tMs);
    options.onSetpointWrite?.(tag, value);
  };
  const command = (c: string | SimCommand) => {
    const cmd = typeof c === 'string' ? parseSimCommand(c) : c;
    if (cmd.type === 'write') return write(cmd.tag, cmd.value);
    engine.apply(cmd);
    log(`sim: ${typeof c === 'string' ? c.trim() : cmd.type}`);
  };

  try {
    if (options.opcua !== false) {
      const hostname = options.opcuaHostname ?? '127.0.0.1';
      const port = options.opcuaPort === 0 ? await pickFreePort(hostname) : (options.opcuaPort ?? DEFAULT_OPCUA_PORT);
      opcua = await startOpcuaServer({
        port,
        hostname,
        pkiDir: options.pkiDir ?? defaultPkiDir(),
        user: options.opcuaUser ?? process.env.TWINLOOP_SIM_USER,
        password: options.opcuaPassword ?? process.env.TWINLOOP_SIM_PASSWORD,
        allowAnonymous: options.allowAnonymous ?? true,
        acceptUnknownCertificates: true,
        onWrite: write,
        onCommand: command,
      });
      opcua.publish(engine.last.tsMs, engine.last.readings);
    }
    if (options.mqttUrl) {
      mqtt = startMqttPublisher({
        url: options.mqttUrl,
        prefix,
        groupId: options.sparkplugGroupId ?? SPARKPLUG_GROUP_ID,
        edgeNodeId: options.sparkplugEdgeNodeId ?? SPARKPLUG_EDGE_NODE_ID,
        deviceId: options.sparkplugDeviceId ?? SPARKPLUG_DEVICE_ID,
        username: options.mqttUsername,
        password: options.mqttPassword,
        json: options.mqttJson ?? true,
        sparkplug: options.sparkplug ?? true,
        onWrite: write,
        log,
      });
      mqtt.publish(engine.last.tsMs, engine.last.readings);
    }
  } catch (err) {
    await opcua?.stop().catch(() => undefined);
    throw err;
  }

  const pendingActions = [...(options.schedule ?? [])].sort((a, b) => a.atMs - b.atMs);
  if (pendingActions.length > 0) {
    listeners.add(() => {
      while (pendingActions.length > 0 && pendingActions[0].atMs <= engine.elapsedMs) {
        const action = pendingActions.shift()!;
        try {
          command(action.command);
        } catch (err) {
          log(
            `sim: scheduled ${String(typeof action.command === 'string' ? action.command : action.command.type)} refused: ${(err as Error).message}`,
          );
        }
      }
    });
  }

  // Wall-clock driver: simulated elapsed time = speed × wall elapsed, run in whole steps.
  let timer: NodeJS.Timeout | undefined;
  if ((options.clock ?? 'wall') === 'wall') {
    let wallStart = performance.now();
    let simAtWallStart = engine.elapsedMs;
    let currentSpeed = warmup && warmup.simMs > 0 ? warmup.speed : speed;
    const maxStepsPerTick = 20_000;
    timer = setInterval(
      () => {
        // The warm-up ends at its length, never past it: its end is timed to meet the wall clock, and an
        // overshoot (a late tick at 40x is seconds) would date every later sample in the future.
        if (currentSpeed !== speed && warmup!.simMs - engine.elapsedMs < engine.stepMs) {
          currentSpeed = speed;
          wallStart = performance.now();
          simAtWallStart = engine.elapsedMs;
          log('sim: warm-up done, running at normal speed');
        }
        const targetMs = simAtWallStart + currentSpeed * (performance.now() - wallStart);
        let dueMs = targetMs - engine.elapsedMs;
        if (currentSpeed !== speed) dueMs = Math.min(dueMs, warmup!.simMs - engine.elapsedMs);
        if (dueMs < engine.stepMs) return;
        if (dueMs > maxStepsPerTick * engine.stepMs) {
          // Cannot keep up: run what fits and let the schedule slip instead of piling up work.
          dueMs = maxStepsPerTick * engine.stepMs;
          wallStart = performance.now();
          simAtWallStart = engine.elapsedMs + dueMs;
          log('sim: cannot keep up with the speed factor; simulated time slips');
        }
        engine.advance(dueMs);
      },
      Math.max(10, Math.min(100, engine.stepMs / Math.max(speed, warmup?.speed ?? 0))),
    );
  }

  let stopped = false;
  return {
    opcuaEndpoint: opcua?.endpointUrl,
    opcuaCertificateFile: opcua?.certificateFile,
    asset: assetPath(prefix),
    jsonTopicFilter: `${assetPath(prefix)}/#`,
    sparkplugTopicFilter: `spBv1.0/${options.sparkplugGroupId ?? SPARKPLUG_GROUP_ID}/#`,
    get simTimeMs() {
      return engine.state.tMs;
    },
    get mqtt() {
      return mqtt;
    },
    injectFault: (fault) => command({ type: 'fault', fault }),
    clearFaults: (tag) => command(tag ? { type: 'clear', tag } : { type: 'clear' }),
    setDisturbance: (kind, level) => command({ type: 'disturb', kind, level }),
    write,
    command,
    snapshot: () => ({
      tsMs: engine.last.tsMs,
      readings: engine.last.readings,
      truth: trueValues(engine.state),
      wear: engine.state.wear,
      screenClog: engine.state.screenClog,
      tripReason: engine.state.tripReason,
      faults: engine.state.faults,
      disturbances: engine.state.disturbances,
    }),
    advance: (simMs) => engine.advance(simMs),
    onSample(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      listeners.clear();
      await mqtt?.stop().catch((err) => log(`mqtt: ${(err as Error).message}`));
      await opcua?.stop();
    },
  };
}
