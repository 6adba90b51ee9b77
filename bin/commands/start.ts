/**
 * `twinloop start` (what `npm start` runs): Node-RED with the TwinLoop nodes, an embedded MQTT
 * broker, the plant simulator and the demo flow, all on 127.0.0.1 unless told otherwise.
 */
import { parseArgs } from 'node:util';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmbeddedBroker } from '../lib/aedes-broker.js';
import { NODE_RED_USER, SIM_USER } from '../lib/broker-acl.js';
import { assetPath, SPARKPLUG_GROUP_ID } from '../../examples/plant-sim/tags.js';
import { startNodeRed, requireNodeRed, PACKAGE_ROOT } from '../lib/embedded-node-red.js';
import {
  adminAuthUsers,
  brokerPasswordFile,
  credentialSecret,
  demoSigningKey,
  describeLogins,
  findSigningKey,
  homeSecret,
  loadLogins,
  signingKeyFile,
} from '../lib/demo-users.js';
import { logLevel, quietOpcua } from '../lib/quiet-logs.js';
import { checkPrivateHome } from '../lib/private-home.js';
import { UsageError, numberOption } from './usage.js';
import { clusterFlowFile, clusterInstance, setClusterEnv, type ClusterInstance } from '../lib/cluster-instance.js';

export const startHelp = `Usage: twinloop start [options]
       twinloop start --cluster URLS --lines LINES --mqtt-url URL [--instance NAME] [options]

Starts Node-RED with the TwinLoop nodes, an embedded MQTT broker (aedes), the plant simulator
(OPC UA + MQTT) and the demo flow. Stops cleanly on Ctrl-C. With --cluster it starts one
instance of a cluster instead (no broker, simulator or demo; see "Cluster instance" below).

Options (environment variable in brackets):
  --port N           editor port [PORT] (default 1880)
  --host H           address to listen on [HOST] (default 127.0.0.1)
  --home DIR         Node-RED user directory [TWINLOOP_HOME] (default ./.twinloop)
  --mqtt-port N      embedded broker port [MQTT_PORT] (default 1883)
  --opcua-port N     simulator OPC UA port [OPCUA_PORT] (default 4840)
  --speed X          simulator speed factor (default 1)
  --seed N           simulator seed (default 42)
  --no-sim           do not start the simulator
  --no-step-test     no commissioning step test: the simulator starts at real speed with its
                     setpoints steady (the demo's proposals need the step test's data)
  -h, --help         this text

Cluster instance (scale-out on NATS JetStream; every instance of a site gets the same servers
and lines, and its own name):
  --cluster URLS     NATS servers, nats:// or tls://, comma separated
  --lines LIST       lines this instance may own, site/area/line, comma separated [TWINLOOP_LINES]
  --mqtt-url URL     the site's MQTT broker for readings (Mosquitto) [TWINLOOP_MQTT_URL]
  --instance NAME    this instance's name, unique while it runs [TWINLOOP_INSTANCE]
                     (default <hostname>-<pid>)
  --lease-s N        lease in seconds: the lines of an instance that died move after about
                     one lease (default 10) [TWINLOOP_LEASE_S]
  --nats-ca FILE     CA file of the NATS servers' TLS certificates [TWINLOOP_NATS_CA_FILE]
  --flow FILE        run the site's own flow instead of the generated one; start sets
                     TWINLOOP_NATS_SERVERS and the variables above for its twin-cluster to name
The generated flow (<home>/cluster-flows.json, written anew from --lines at every start) runs,
for each line while this instance owns it, readings from <line>/<asset>/<tag> (JSON with
"value" and "tsMs") on the line's persistent MQTT session (client id twinloop-<line>, so the
broker queues them during a takeover), screened, published as <line>/<asset>/twin/reading/<tag>.
Each instance owns at most ⌈lines / instances⌉ + 1 lines. NATS user and password:
TWINLOOP_NATS_USER and TWINLOOP_NATS_PASSWORD (kept as Node-RED credentials, never in the flow).
Example, one of three machines (the others with --instance nr2, nr3):
  npx twinloop start --cluster nats://nats1:4222,nats://nats2:4222,nats://nats3:4222 \\
    --lines acme/plant1/line1,acme/plant1/line2,acme/plant1/line3 --mqtt-url mqtt://broker:1883 --instance nr1
Three instances, a 3-node NATS cluster and Mosquitto on one machine: npm run cluster-demo.

Security: the editor can deploy flows that write to the plant, so it always asks for a login
and listens on 127.0.0.1 unless HOST says otherwise. User "admin" (TWINLOOP_ADMIN_USER) has the
password TWINLOOP_ADMIN_PASSWORD, or a generated one printed at start. On 127.0.0.1 the demo also
has two supervisors, an operator and a viewer for the approvals and overview pages (generated
passwords, printed at start, kept in <home>/demo-users.json; TWINLOOP_DEMO_USERS=0 leaves them
out). A non-loopback HOST needs
TWINLOOP_ADMIN_PASSWORD and has no demo users unless TWINLOOP_DEMO_USERS=1. Node-RED credentials
are encrypted with TWINLOOP_CREDENTIAL_SECRET, or a key made once in <home>/credential.key (0600).
Files are private: start runs with umask 077, makes <home> 0700, sets any secret file in it that
others can read to 0600 (one warning line each) and warns if <home> itself is open to others.

Log: only errors besides the start banner; TWINLOOP_LOG=warn, info or debug shows more.
A port in use stops the start with one line naming the variable that moves it (exit code 1).
`;

/**
 * The demo's commissioning step test: zone 3 and zone 2 setpoints stepped up and back, 7 simulated
 * minutes each (≥ 3 time constants of the zones plus settling), run at 40× in the first ~45 s. It
 * gives twin-propose the setpoint variation it needs to fit energy per kg (measured on the headless
 * simulator: proposals for zone3_sp at ~22 and zone2_sp at ~29 simulated minutes).
 */
const DEMO_STEP_TEST = {
  warmup: { simMs: 30 * 60_000, speed: 40 },
  schedule: [
    { atMs: 7 * 60_000, command: 'set zone3_sp 219' },
    { atMs: 14 * 60_000, command: 'set zone2_sp 209' },
    { atMs: 21 * 60_000, command: 'set zone3_sp 215' },
    { atMs: 28 * 60_000, command: 'set zone2_sp 205' },
  ],
};

/**
 * The demo's gearbox bearing starts part-worn (wear 0.6 of 1, vibration about 3.5 mm/s): about 11
 * days before the vibration trip at the simulator's rate of wear (30 days new to failure), so the
 * maintenance tab has a window worth choosing within its 14-day horizon.
 */
const DEMO_BEARING = { initialWear: 0.6, daysToFailure: 30 };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** A port someone else holds stops the start with one line naming the variable that moves it. */
export class PortInUseError extends Error {}

async function onPort<T>(what: string, port: number, variable: string, option: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code !== 'EADDRINUSE' && !/EADDRINUSE/.test(String(e?.message))) throw err;
    throw new PortInUseError(`port ${port} for ${what} is in use: set ${variable} (or ${option}) to a free port`);
  }
}

export async function startCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      home: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'opcua-port': { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      'no-sim': { type: 'boolean' },
      'no-step-test': { type: 'boolean' },
      cluster: { type: 'string' },
      lines: { type: 'string' },
      'mqtt-url': { type: 'string' },
      instance: { type: 'string' },
      'lease-s': { type: 'string' },
      'nats-ca': { type: 'string' },
      flow: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(startHelp);
    return;
  }
  const env = process.env;
  const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
  const port = numberOption(values.port ?? env.PORT ?? '1880', 'port', isPort, 'a port number')!;
  const host = values.host ?? env.HOST ?? '127.0.0.1';
  const home = resolve(values.home ?? env.TWINLOOP_HOME ?? '.twinloop');
  const password = env.TWINLOOP_ADMIN_PASSWORD;
  if (!LOOPBACK.has(host) && !password) {
    throw new UsageError(`refusing to listen on ${host} without a login: set TWINLOOP_ADMIN_PASSWORD (or use HOST=127.0.0.1)`);
  }
  // A cluster instance runs no broker, simulator or demo: their options would be silently ignored.
  const clusterMode = values.cluster !== undefined;
  const demoOnly = ['mqtt-port', 'opcua-port', 'speed', 'seed', 'no-sim', 'no-step-test'] as const;
  const clusterOnly = ['lines', 'mqtt-url', 'instance', 'lease-s', 'nats-ca', 'flow'] as const;
  for (const o of clusterMode ? demoOnly : clusterOnly) {
    if (values[o] !== undefined)
      throw new UsageError(clusterMode ? `--${o} is for the demo, not with --cluster` : `--${o} needs --cluster`);
  }
  const cluster = clusterMode ? clusterInstance(values, env) : undefined;

  requireNodeRed(); // before the broker and the simulator start: without Node-RED there is nothing to run
  if (cluster) await checkNats(cluster); // an instance that cannot reach its cluster would own nothing, silently
  const level = logLevel(env);
  // Everything written from here on (our keys, Node-RED's sessions, settings and credentials, the
  // simulator's private keys, the ledger) is owner-only; what was written before is checked.
  process.umask(0o077);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  for (const line of checkPrivateHome(home)) process.stderr.write(`twinloop start: ${line}\n`);
  const loopback = LOOPBACK.has(host);
  const demoUsers = env.TWINLOOP_DEMO_USERS !== undefined ? env.TWINLOOP_DEMO_USERS === '1' : loopback;
  const logins = loadLogins(home, { adminPassword: password, adminUser: env.TWINLOOP_ADMIN_USER, demoUsers });
  // The signing key stays in an owner-only file; Node-RED's environment gets only its path (issue 13:
  // a function node's env.get sees the environment). A key given as TWINLOOP_SIGNING_KEY is used
  // instead, and twin-ledger takes it out of the environment as soon as it loads.
  if (!env.TWINLOOP_SIGNING_KEY) {
    if (!env.TWINLOOP_SIGNING_KEY_FILE) demoSigningKey(home);
    env.TWINLOOP_SIGNING_KEY_FILE = signingKeyFile(home, env);
    // Prebuilt flows deployed into the demo name the variable: twin-ledger takes it out of the
    // environment as soon as Node-RED loads it, before any flow runs (and it is deleted after the start).
    const key = findSigningKey(home, env).key;
    if (key) env.TWINLOOP_SIGNING_KEY = key;
  }
  const secret = env.TWINLOOP_CREDENTIAL_SECRET ?? credentialSecret(home);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let flowFile: string;
    let banner: (editor: string) => string;
    // before node-opcua is loaded (by the simulator or by the nodes)
    await quietOpcua(level);
    if (cluster) {
      setClusterEnv(cluster, env);
      flowFile = clusterFlowFile(cluster, home, secret, env);
      delete env.TWINLOOP_NATS_PASSWORD; // in the flow's encrypted credentials now; flow code's env.get must not find it
      banner = (editor) =>
        `TwinLoop cluster instance ${cluster.instance} is running.\n  editor:     ${editor}\n` +
        `  cluster:    ${cluster.servers.join(',')} (lease ${cluster.leaseS} s)\n` +
        `  lines:      may own ${cluster.lines.length} (${cluster.lines.join(', ')}), at most ⌈lines / instances⌉ + 1 at a time\n` +
        `  MQTT:       ${cluster.mqttUrl}\n  flow:       ${flowFile}\n`;
    } else {
      const d = await startDemoParts(values, env, home);
      stops.push(...d.stops);
      flowFile = d.flowFile;
      banner = (editor) =>
        `TwinLoop is running.\n  editor:     ${editor}\n  MQTT:       ${d.mqttUrl}\n` +
        `  OPC UA:     ${env.TWINLOOP_OPCUA_ENDPOINT}${values['no-sim'] ? ' (simulator not started)' : ''}\n` +
        `  approvals:  ${editor}twinloop/approvals\n` +
        `  overview:   ${editor}twinloop/overview\n`;
    }

    const red = await onPort('the editor', port, 'PORT', '--port', () =>
      startNodeRed({
        userDir: home,
        port,
        host,
        flowFile,
        adminAuthUsers: adminAuthUsers(logins),
        credentialSecret: secret,
        logLevel: level,
      }),
    );
    stops.push(() => red.stop());
    delete env.TWINLOOP_SIGNING_KEY; // twin-ledger holds it; flow code's env.get must not find it (issue 13)

    process.stdout.write(
      banner(red.url) +
        `  user dir:   ${home}\n  log:        ${level === 'error' ? 'quiet (TWINLOOP_LOG=info or debug shows more)' : `level ${level} (TWINLOOP_LOG)`}\n` +
        `  logins (user  password  role):\n${describeLogins(logins)}\nPress Ctrl-C to stop.\n`,
    );
  } catch (err) {
    await stopAll();
    throw err;
  }

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('Stopping TwinLoop…\n');
      void stopAll().then(() => resolveStop());
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  // Everything we started is stopped; Node-RED's login code leaves a week-long token-expiry timer
  // that would keep the process alive, so exit as Node-RED's own launcher does.
  process.exit(0);
}

/** One connection to the cluster and back: fails (exit 1) with the servers named when none answers. */
async function checkNats(c: ClusterInstance): Promise<void> {
  const { connectNats } = await import('../../runtime/cluster/nats-connect.js');
  const env = process.env;
  const nc = await connectNats({
    servers: c.servers,
    ...(env.TWINLOOP_NATS_USER ? { user: env.TWINLOOP_NATS_USER, password: env.TWINLOOP_NATS_PASSWORD ?? '' } : {}),
    ...(c.natsCaFile ? { tlsCaFile: c.natsCaFile } : {}),
  });
  await nc.close();
}

type StartValues = {
  'mqtt-port'?: string;
  'opcua-port'?: string;
  speed?: string;
  seed?: string;
  'no-sim'?: boolean;
  'no-step-test'?: boolean;
};

/** The demo's own parts: the embedded broker, the simulator, the demo flow (copied into the home once). */
async function startDemoParts(
  values: StartValues,
  env: NodeJS.ProcessEnv,
  home: string,
): Promise<{ stops: Array<() => Promise<void>>; flowFile: string; mqttUrl: string }> {
  const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
  const mqttPort = numberOption(values['mqtt-port'] ?? env.MQTT_PORT ?? '1883', 'mqtt-port', isPort, 'a port number')!;
  const opcuaPort = numberOption(values['opcua-port'] ?? env.OPCUA_PORT ?? '4840', 'opcua-port', isPort, 'a port number')!;
  const speed = numberOption(values.speed ?? '1', 'speed', (n) => n > 0, 'a positive number')!;
  const seed = numberOption(values.seed ?? '42', 'seed', Number.isInteger, 'an integer')!;
  const stops: Array<() => Promise<void>> = [];
  try {
    // The broker asks for a login and lets only the simulator publish the plant's topics (broker-acl.ts);
    // passwords in owner-only files of the home. Node-RED's flow names its user and password file only.
    const simPassword = homeSecret(home, brokerPasswordFile(SIM_USER));
    const users = { [SIM_USER]: simPassword, [NODE_RED_USER]: homeSecret(home, brokerPasswordFile(NODE_RED_USER)) };
    const acl = { plantAsset: assetPath(), sparkplugGroup: SPARKPLUG_GROUP_ID };
    const broker = await onPort('the MQTT broker', mqttPort, 'MQTT_PORT', '--mqtt-port', () =>
      startEmbeddedBroker(mqttPort, '127.0.0.1', { users, acl }),
    );
    stops.push(() => broker.stop());
    env.TWINLOOP_MQTT_URL = broker.url;
    env.TWINLOOP_MQTT_USER = NODE_RED_USER;
    env.TWINLOOP_MQTT_PASSWORD_FILE = join(home, brokerPasswordFile(NODE_RED_USER));

    if (!values['no-sim']) {
      const { startPlantSim } = await import('../../examples/plant-sim/index.js');
      const sim = await onPort("the simulator's OPC UA server", opcuaPort, 'OPCUA_PORT', '--opcua-port', () =>
        startPlantSim({
          opcuaPort,
          mqttUrl: broker.url,
          mqttUsername: SIM_USER,
          mqttPassword: simPassword,
          speed,
          seed,
          ...(values['no-step-test'] ? {} : DEMO_STEP_TEST),
          ...DEMO_BEARING,
          pkiDir: join(home, 'pki', 'plant-sim'),
        }),
      );
      stops.push(() => sim.stop());
      env.TWINLOOP_OPCUA_ENDPOINT = sim.opcuaEndpoint;
    }
    env.TWINLOOP_OPCUA_ENDPOINT ??= `opc.tcp://127.0.0.1:${opcuaPort}/UA/TwinLoopSim`;

    // The demo's RUL model ships with the package; the flow names it through the environment.
    env.TWINLOOP_BEARING_MODEL ??= join(PACKAGE_ROOT, 'models', 'bearing-rul-model.json');

    // The demo flow is copied once; after that the user's edits in the editor are theirs.
    const flowFile = join(home, 'flows.json');
    if (!existsSync(flowFile)) {
      copyFileSync(join(PACKAGE_ROOT, 'examples', 'demo', 'demo-line.json'), flowFile);
      chmodSync(flowFile, 0o600); // a copy keeps the package file's mode, not the umask
    }
    return { stops, flowFile, mqttUrl: broker.url };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}
