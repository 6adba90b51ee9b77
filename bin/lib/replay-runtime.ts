/**
 * Node-RED for `twinloop replay`: embedded in this process with no HTTP listener at all
 * (httpAdminRoot false, no server), a throw-away user directory, the replay hub active so the
 * ingestion nodes open no connections, and message hooks that record what TwinLoop nodes send and
 * tell when the flow is idle.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ReplayHubController } from '../../runtime/replay/hub.js';
import { InFlight } from '../../runtime/replay/idle.js';
import { CAPTURE_ID, describeNode, type PreparedFlow } from '../../runtime/replay/flow.js';
import { TwinError } from '../../runtime/model/errors.js';
import { PACKAGE_ROOT, requireNodeRed, type NodeRedModule } from './embedded-node-red.js';

export interface CapturedMessage {
  nodeId: string;
  nodeType: string;
  port: number;
  topic: unknown;
  payload: unknown;
}

export interface LogEntry {
  level: 'error' | 'warn';
  text: string;
}

export interface ReplayRuntime {
  hub: ReplayHubController;
  idle: InFlight;
  /** Errors and warnings logged by nodes since the last call. */
  takeLog(): LogEntry[];
  stop(): Promise<void>;
}

const HOOK = 'twinloopReplay';

/** Node-RED log levels (@node-red/util log.js). */
const LEVEL_ERROR = 20;
const LEVEL_WARN = 30;

export async function startReplayRuntime(flow: PreparedFlow, onMessage: (m: CapturedMessage) => void): Promise<ReplayRuntime> {
  const userDir = mkdtempSync(join(tmpdir(), 'twinloop-replay-'));
  const hub = new ReplayHubController();
  const idle = new InFlight();
  const log: LogEntry[] = [];
  let RED: NodeRedModule | undefined;
  let started = false;
  const cleanup = async () => {
    if (RED) {
      for (const h of ['onSend', 'preRoute', 'preDeliver', 'onReceive']) RED.hooks.remove(`${h}.${HOOK}`);
      if (started) await RED.stop().catch(() => undefined);
    }
    hub.deactivate();
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    // Node-RED finds node packages in <userDir>/node_modules: link this package there.
    mkdirSync(join(userDir, 'node_modules', '@twinloop'), { recursive: true });
    symlinkSync(PACKAGE_ROOT, join(userDir, 'node_modules', '@twinloop', 'node-red-twin'), 'dir');
    writeFileSync(join(userDir, 'flows.json'), '[]');
    const red = (RED = requireNodeRed());
    red.init({
      userDir,
      flowFile: 'flows.json',
      httpAdminRoot: false,
      httpNodeRoot: false,
      httpStatic: false,
      disableEditor: true,
      functionGlobalContext: {},
      // the temporary user directory keeps no credentials worth protecting; this silences the key notice
      credentialSecret: randomBytes(16).toString('hex'),
      logging: {
        console: { level: 'off' },
        twinloopReplay: {
          level: 'warn',
          metrics: false,
          audit: false,
          handler: () => (m: { level: number; msg: unknown; type?: string; id?: string; name?: string }) => {
            if (m.level !== LEVEL_ERROR && m.level !== LEVEL_WARN) return;
            if (m.msg === 'Encrypted credentials not found') return; // a fresh user directory has none
            const who = m.type ? `${m.type}${m.name ? ` "${m.name}"` : ''}${m.id ? ` (${m.id})` : ''}: ` : '';
            const text = m.msg instanceof Error ? m.msg.message : typeof m.msg === 'string' ? m.msg : JSON.stringify(m.msg);
            log.push({ level: m.level === LEVEL_ERROR ? 'error' : 'warn', text: who + text });
          },
        },
      },
      editorTheme: { projects: { enabled: false }, tours: false },
      diagnostics: { enabled: false },
      telemetry: { enabled: false },
      runtimeState: { enabled: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    });
    await red.start();
    started = true;

    for (const t of flow.types) {
      if (!red.nodes.getType(t)) {
        const n = flow.flows.find((x) => x.type === t)!;
        throw new TwinError(
          'BAD_FLOW',
          `unknown node type '${t}' (${describeNode(n)}): not a core node, a TwinLoop node or an installed one`,
        );
      }
    }

    // Record: one event per send of a TwinLoop node and port (the capture wire is on every port).
    red.hooks.add(
      `preRoute.${HOOK}`,
      (ev: {
        msg: { topic?: unknown; payload?: unknown };
        source: { id: string; node: { type: string; _alias?: string }; port: number };
        destination: { id: string };
      }) => {
        if (ev.destination.id !== CAPTURE_ID) return;
        idle.touched();
        onMessage({
          nodeId: ev.source.node._alias ?? ev.source.id,
          nodeType: ev.source.node.type,
          port: ev.source.port,
          topic: ev.msg.topic,
          payload: ev.msg.payload,
        });
        return false; // the capture id is no node: stop here
      },
    );
    // Node-RED treats a hook with one parameter as synchronous (two: it waits for a callback).
    red.hooks.add(`preDeliver.${HOOK}`, (_ev: unknown) => idle.dispatched());
    red.hooks.add(`onReceive.${HOOK}`, (_ev: unknown) => idle.received());

    hub.activate();
    log.length = 0;
    // setFlows resolves before the nodes exist; Node-RED says when they are started.
    // (The start of the empty initial flow may report late: wait for the event that carries ours.)
    const marker = flow.ingestion[0].id;
    const flowsStarted = new Promise<void>((res) => {
      const onStarted = (ev: { config?: { flows?: Array<{ id: string }> } }) => {
        if (!ev?.config?.flows?.some((n) => n.id === marker)) return;
        red.events.removeListener('flows:started', onStarted);
        res();
      };
      red.events.on('flows:started', onStarted);
    });
    await red.nodes.setFlows(flow.flows, null, 'full', true, true);
    await flowsStarted;
    await idle.waitIdle(true);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    hub,
    idle,
    takeLog: () => log.splice(0),
    stop: cleanup,
  };
}
