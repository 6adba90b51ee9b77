/**
 * `twinloop sim`: the plant simulator alone. Prints the OPC UA endpoint and the MQTT topics, takes
 * fault/disturbance commands on stdin, and stops cleanly on SIGINT/SIGTERM.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UsageError, numberOption } from './usage.js';
import { logLevel, quietOpcua } from '../lib/quiet-logs.js';
import { COMMAND_HELP } from '../../examples/plant-sim/faults.js';
import {
  DEFAULT_OPCUA_PORT,
  DEFAULT_PREFIX,
  FAULT_COMMAND_NODE_ID,
  SPARKPLUG_DEVICE_ID,
  SPARKPLUG_EDGE_NODE_ID,
  SPARKPLUG_GROUP_ID,
} from '../../examples/plant-sim/tags.js';
// The simulator itself (node-opcua, mqtt) is loaded only when it runs, so --help and option errors are quick.
import type { PlantSimOptions } from '../../examples/plant-sim/index.js';

const HELP = `Usage: twinloop sim [options]

Runs the extrusion-line simulator: an OPC UA server and an MQTT publisher (unified-namespace JSON
and Sparkplug B). Type commands on stdin to inject faults (see below). Ctrl-C stops it.

Options:
  --opcua-port <port>          OPC UA port (default ${DEFAULT_OPCUA_PORT}; 0 = any free port)
  --opcua-host <host>          host in the endpoint URL (default 127.0.0.1)
  --mqtt-url <url>             broker URL (default $TWINLOOP_MQTT_URL or mqtt://127.0.0.1:1883)
  --speed <factor>             simulated seconds per wall second (default 1)
  --seed <int>                 random seed; same seed + same --start = same data (default 1)
  --start <time>               simulated start, ISO-8601 or epoch ms (default now)
  --prefix <topic>             UNS prefix (default ${DEFAULT_PREFIX})
  --days-to-failure <days>     simulated days at nominal speed until the bearing fails (default 30)
  --publish-interval-ms <ms>   simulated time between samples, multiple of 100 (default 1000)
  --pki-dir <dir>              OPC UA server PKI (default $TWINLOOP_HOME/pki/plant-sim or a temp dir)
  --no-opcua                   no OPC UA server
  --no-mqtt                    no MQTT publishing
  --no-json                    MQTT: no unified-namespace JSON topics
  --no-sparkplug               MQTT: no Sparkplug B
  --quiet                      no periodic status line
  -h, --help                   this help

Environment: TWINLOOP_SIM_USER / TWINLOOP_SIM_PASSWORD add an OPC UA user (anonymous stays allowed);
TWINLOOP_MQTT_USERNAME / TWINLOOP_MQTT_PASSWORD log in to the broker.

With --speed above 1 the simulated event time runs ahead of the wall clock (speed 10 for 1 min
= 9 min in the future): give the ingestion nodes a large enough max-future tolerance, or use --start.

Commands on stdin:
${COMMAND_HELP.split('\n')
  .map((l) => '  ' + l)
  .join('\n')}
  status                               one status line
`;

const OPTIONS = {
  'opcua-port': { type: 'string' },
  'opcua-host': { type: 'string' },
  'mqtt-url': { type: 'string' },
  speed: { type: 'string' },
  seed: { type: 'string' },
  start: { type: 'string' },
  prefix: { type: 'string' },
  'days-to-failure': { type: 'string' },
  'publish-interval-ms': { type: 'string' },
  'pki-dir': { type: 'string' },
  'no-opcua': { type: 'boolean' },
  'no-mqtt': { type: 'boolean' },
  'no-json': { type: 'boolean' },
  'no-sparkplug': { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Turn argv into simulator options; throws UsageError with a one-line reason. */
export function parseSimArgs(argv: string[]): { help: true } | { help: false; options: PlantSimOptions; quiet: boolean } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node's messages are multi-line with hints; keep the first line.
    throw new UsageError(
      String((err as Error).message)
        .split('\n')[0]
        .replace(/\.$/, ''),
    );
  }
  if (values.help) return { help: true };
  const int = (n: number) => Number.isInteger(n);
  const opcuaPort = numberOption(values['opcua-port'], 'opcua-port', (n) => int(n) && n >= 0 && n <= 65535, 'a port number 0..65535');
  const speed = numberOption(values.speed, 'speed', (n) => n > 0 && n <= 100_000, 'a factor above 0 (at most 100000)');
  const seed = numberOption(values.seed, 'seed', int, 'an integer');
  const daysToFailure = numberOption(values['days-to-failure'], 'days-to-failure', (n) => n > 0, 'a number of days above 0');
  const publishIntervalMs = numberOption(
    values['publish-interval-ms'],
    'publish-interval-ms',
    (n) => int(n) && n >= 100 && n % 100 === 0,
    'a multiple of 100',
  );
  let startTsMs: number | undefined;
  if (values.start !== undefined) {
    startTsMs = /^\d+$/.test(values.start) ? Number(values.start) : Date.parse(values.start);
    if (!Number.isFinite(startTsMs)) throw new UsageError(`--start must be ISO-8601 or epoch ms, got '${values.start}'`);
  }
  if (values['no-mqtt'] && values['mqtt-url'] !== undefined) throw new UsageError('--no-mqtt and --mqtt-url contradict each other');
  if (values['no-mqtt'] && values['no-opcua']) throw new UsageError('--no-mqtt and --no-opcua leave nothing to serve');
  if (values['no-json'] && values['no-sparkplug'])
    throw new UsageError('--no-json and --no-sparkplug leave MQTT with nothing to publish (use --no-mqtt)');
  const mqttUrl = values['no-mqtt'] ? undefined : (values['mqtt-url'] ?? process.env.TWINLOOP_MQTT_URL ?? 'mqtt://127.0.0.1:1883');
  if (mqttUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(mqttUrl);
    } catch {
      throw new UsageError(`--mqtt-url is not a URL: '${mqttUrl}'`);
    }
    if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(u.protocol))
      throw new UsageError(`--mqtt-url must be mqtt://, mqtts://, ws:// or wss://, got '${u.protocol}'`);
    if (u.password) throw new UsageError('--mqtt-url must not carry a password (use TWINLOOP_MQTT_PASSWORD)');
  }
  const prefix = values.prefix;
  if (prefix !== undefined && (prefix.trim() === '' || /[#+]/.test(prefix) || prefix.startsWith('/'))) {
    throw new UsageError(`--prefix must be a topic without wildcards or a leading '/', got '${prefix}'`);
  }
  return {
    help: false,
    quiet: values.quiet ?? false,
    options: {
      opcua: !values['no-opcua'],
      opcuaPort,
      opcuaHostname: values['opcua-host'],
      pkiDir: values['pki-dir'],
      mqttUrl,
      mqttUsername: process.env.TWINLOOP_MQTT_USERNAME,
      mqttPassword: process.env.TWINLOOP_MQTT_PASSWORD,
      mqttJson: !values['no-json'],
      sparkplug: !values['no-sparkplug'],
      speed,
      seed,
      startTsMs,
      prefix,
      daysToFailure,
      publishIntervalMs,
    },
  };
}

export async function simCommand(argv: string[]): Promise<number> {
  const parsed = parseSimArgs(argv);
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { options, quiet } = parsed;
  const out = (line: string) => process.stdout.write(line + '\n');
  await quietOpcua(logLevel(process.env)); // node-opcua's start-up notes only with TWINLOOP_LOG=info or debug
  const { startPlantSim } = await import('../../examples/plant-sim/index.js');
  const sim = await startPlantSim({ ...options, log: (l) => out(l) });
  const speed = options.speed ?? 1;
  const asset = sim.asset;
  out(
    `TwinLoop plant simulator: seed ${options.seed ?? 1}, speed ${speed}x, bearing fails after ~${options.daysToFailure ?? 30} simulated days`,
  );
  if (sim.opcuaEndpoint) out(`OPC UA    ${sim.opcuaEndpoint}  nodes ns=1;s=extruder.<tag>, faults ${FAULT_COMMAND_NODE_ID}`);
  if (options.mqttUrl) {
    out(`MQTT      ${options.mqttUrl}`);
    if (options.mqttJson !== false) out(`  JSON       ${asset}/<tag>`);
    if (options.sparkplug !== false)
      out(
        `  Sparkplug  spBv1.0/${SPARKPLUG_GROUP_ID}/{NBIRTH,NDEATH,NCMD}/${SPARKPLUG_EDGE_NODE_ID}, spBv1.0/${SPARKPLUG_GROUP_ID}/{DBIRTH,DDATA,DCMD}/${SPARKPLUG_EDGE_NODE_ID}/${SPARKPLUG_DEVICE_ID}`,
      );
  }
  if (speed > 1) out(`note: at ${speed}x the source timestamps run ahead of the wall clock`);
  out('type "help" for fault commands; Ctrl-C stops');

  const status = () => {
    const s = sim.snapshot();
    const r = s.readings;
    return (
      `${new Date(s.tsMs).toISOString()}  zones ${r.zone1_temp.value.toFixed(1)}/${r.zone2_temp.value.toFixed(1)}/${r.zone3_temp.value.toFixed(1)} degC  ` +
      `screw ${r.screw_speed.value.toFixed(1)} rpm  ${r.throughput.value.toFixed(0)} kg/h  vib ${r.vibration.value.toFixed(2)} mm/s  ` +
      `wear ${(s.wear * 100).toFixed(1)} %${s.tripReason ? `  TRIP: ${s.tripReason}` : ''}${s.faults.length ? `  faults: ${s.faults.map((f) => `${f.kind} ${f.tag}`).join(', ')}` : ''}`
    );
  };
  const statusTimer = quiet ? undefined : setInterval(() => out(status()), 30_000);

  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    const text = line.trim();
    if (!text) return;
    if (text === 'help') return out(COMMAND_HELP);
    if (text === 'status') return out(status());
    try {
      sim.command(text);
      out(`ok: ${text}`);
    } catch (err) {
      out(`refused: ${(err as Error).message.split('\n')[0]}`);
    }
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      out(`${signal}: stopping`);
      if (statusTimer) clearInterval(statusTimer);
      rl.close();
      sim.stop().then(
        () => {
          out('stopped');
          resolve(0);
          process.exit(0);
        },
        (err) => {
          process.stderr.write(`twinloop sim: stop failed: ${(err as Error).message}\n`);
          resolve(1);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
