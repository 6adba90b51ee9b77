/**
 * For the overview's alarm specs: a real Node-RED (embedded as `twinloop start` embeds it, with the
 * whole package) in a child process, running a real twin-alarm with a real twin-ledger, a
 * twin-overview, and `POST <httpNodeRoot>/test/readings` (a JSON array of Readings, split into one
 * message each) to feed it as an ingest node would; `POST <httpNodeRoot>/test/overview` hands one
 * record to the twin-overview. A child, because Node-RED's registry state does
 * not survive a second RED.init in one process (`npm test` runs every spec in one).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import type { TestUser } from './approvals-gate.js';
import { freePort } from './ports.js';

export const ALARM_NODE_ID = 'alarm1';
const TAB = 'alarm-tab';
export const LEDGER_NODE_ID = 'led1';
const SIGNING_KEY_ENV = 'TWINLOOP_TEST_ALARM_SIGNING_KEY';

/** operator acknowledges; supervisor also shelves; viewer looks. */
export const ALARM_USERS: TestUser[] = [
  { username: 'operator', password: 'op-pass-1', permissions: ['read', 'twinloop.ack'] },
  { username: 'supervisor', password: 'sup-pass-1', permissions: ['read', 'twinloop.ack', 'twinloop.shelve'] },
  { username: 'viewer', password: 'view-pass-1', permissions: 'read' },
];

export interface AlarmServer {
  url: string;
  /** The user directory (the ledger is `<home>/twinloop/ledger/led1.jsonl`). */
  home: string;
  ledgerFile: string;
  output(): string;
  stop(): Promise<void>;
}

/** The flow: readings → split → twin-alarm (ledger led1) → nowhere; and a twin-overview. */
export function alarmFlow(alarm: Record<string, unknown> = {}): unknown[] {
  // flow nodes need x and y: Node-RED takes a node without them for a config node
  const at = (n: Record<string, unknown>, x: number, y: number) => ({ ...n, x, y });
  return [
    { id: TAB, type: 'tab', label: 'alarm test' },
    { id: LEDGER_NODE_ID, type: 'twin-ledger', name: 'audit ledger', path: '', signingKeyEnv: SIGNING_KEY_ENV },
    at({ id: 'readings-in', type: 'http in', z: TAB, url: '/test/readings', method: 'post', wires: [['one-each', 'readings-ok']] }, 90, 60),
    at({ id: 'readings-ok', type: 'http response', z: TAB, statusCode: '204', wires: [] }, 300, 100),
    at(
      {
        id: 'one-each',
        type: 'split',
        z: TAB,
        splt: '\\n',
        spltType: 'str',
        arraySplt: 1,
        arraySpltType: 'len',
        stream: false,
        addname: '',
        wires: [[ALARM_NODE_ID]],
      },
      300,
      60,
    ),
    at({ id: ALARM_NODE_ID, type: 'twin-alarm', z: TAB, name: 'line alarms', ledger: LEDGER_NODE_ID, ...alarm, wires: [[], []] }, 500, 60),
    // records for the overview's store (a DriftEvent: its classification shows with the alarm)
    at({ id: 'records-in', type: 'http in', z: TAB, url: '/test/overview', method: 'post', wires: [['overview1', 'records-ok']] }, 90, 140),
    at({ id: 'records-ok', type: 'http response', z: TAB, statusCode: '204', wires: [] }, 300, 180),
    at({ id: 'overview1', type: 'twin-overview', z: TAB, name: 'line overview', windowMin: 60, maxSeries: 500, wires: [] }, 500, 140),
  ];
}

export async function startAlarmServer(users: TestUser[] = ALARM_USERS, alarm: Record<string, unknown> = {}): Promise<AlarmServer> {
  const home = mkdtempSync(join(tmpdir(), 'twinloop-alarms-'));
  writeFileSync(join(home, 'flows.json'), JSON.stringify(alarmFlow(alarm)));
  const hashed = users.map((u) => ({ ...u, password: hashSync(u.password, 4) }));
  const child: ChildProcess = fork(__filename, [], {
    execArgv: ['--require', 'tsx/cjs'],
    env: {
      ...process.env,
      TWINLOOP_ALARM_SERVER: JSON.stringify({ home, port: await freePort(), users: hashed }),
      [SIGNING_KEY_ENV]: randomBytes(24).toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`alarm server did not start in 60 s:\n${out}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`alarm server exited with ${code}:\n${out}`)));
    child.on('message', (m: { ready?: string }) => {
      if (!m.ready) return;
      clearTimeout(timer);
      resolve(m.ready);
    });
  });
  return {
    url,
    home,
    ledgerFile: join(home, 'twinloop', 'ledger', `${LEDGER_NODE_ID}.jsonl`),
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        const finish = () => {
          rmSync(home, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return finish();
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(killer);
          finish();
        });
        child.send('stop');
      }),
  };
}

async function main(): Promise<void> {
  type Embedded = typeof import('../../bin/lib/embedded-node-red.js');
  const { startNodeRed } = require(join(__dirname, '..', '..', 'dist', 'bin', 'lib', 'embedded-node-red.js')) as Embedded;
  const cfg = JSON.parse(process.env.TWINLOOP_ALARM_SERVER!) as { home: string; port: number; users: TestUser[] };
  const red = await startNodeRed({ userDir: cfg.home, port: cfg.port, host: '127.0.0.1', logLevel: 'warn', adminAuthUsers: cfg.users });
  process.on('message', (m) => {
    if (m === 'stop')
      void red.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: red.url });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`alarm server: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
