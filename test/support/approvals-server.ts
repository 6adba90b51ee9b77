/**
 * The approvals page's Node-RED in a child process, driven over IPC. Node-RED's node registry keeps
 * module state that a second RED.init in the same process trips over (and `npm test` runs every
 * spec in one process, next to other specs that embed Node-RED), so each page spec gets its own.
 * The child registers TestGates (test/support/approvals-gate.ts) and answers the parent's questions
 * about them: what decide() was called with, a proposal's state, where the ledger is.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvelopeCheck, Proposal } from '../../runtime/model/control.js';
import { randomBytes } from 'node:crypto';
import { SIGNING_KEY_ENV, type TestUser } from './approvals-gate.js';

interface Rpc {
  /** `line`: the cluster line the gate acts for (test/integration/approvals-cluster.spec.ts). */
  openGate(id: string, twoPersonAboveStep: number | null, line?: string): Promise<void>;
  /** Take a gate off the registry (as twin-approval does when its line goes) but keep it for calls(). */
  unregisterGate(id: string): Promise<void>;
  addProposal(gateId: string, over: Partial<Proposal>, envelope?: Partial<EnvelopeCheck>): Promise<Proposal>;
  calls(gateId: string): Promise<{
    decideCalls: Array<Record<string, unknown>>;
    policyCalls: Array<Record<string, unknown>>;
    autoApproval: { enabled: boolean; maxStep: number };
  }>;
  state(gateId: string, proposalId: string): Promise<string | undefined>;
  ledgerLocation(gateId: string): Promise<string>;
  /** Register a gate as twin-approval does when its ledger does not verify (runtime/control/gate-alarm.ts). */
  openAlarmedGate(id: string, name: string, reason: string, remedy: string): Promise<void>;
}

export interface ApprovalsServer {
  url: string;
  /** Everything the child printed (Node-RED's log at level warn). */
  output(): string;
  rpc<K extends keyof Rpc>(cmd: K, ...args: Parameters<Rpc[K]>): ReturnType<Rpc[K]>;
  stop(): Promise<void>;
}

/**
 * Start the child; `users` undefined = no adminAuth. `realGate` deploys the real twin-approval node
 * (realGateFlow(), with a signing key in its env) beside the test gates; `flow` deploys more nodes
 * (e.g. a twin-cluster).
 */
export async function startApprovalsServer(
  users: TestUser[] | undefined,
  opts: { realGate?: boolean; flow?: unknown[] } = {},
): Promise<ApprovalsServer> {
  const child: ChildProcess = fork(__filename, [], {
    execArgv: ['--require', 'tsx/cjs'],
    env: {
      ...process.env,
      TWINLOOP_APPROVALS_USERS: users ? JSON.stringify(users) : '',
      TWINLOOP_APPROVALS_REAL_GATE: opts.realGate ? '1' : '',
      TWINLOOP_APPROVALS_FLOW: JSON.stringify(opts.flow ?? []),
      [SIGNING_KEY_ENV]: randomBytes(24).toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`approvals server did not start in 60 s:\n${out}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`approvals server exited with ${code}:\n${out}`)));
    child.on('message', (m: { ready?: string; id?: number; result?: unknown; error?: string }) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve(m.ready);
      } else if (m.id !== undefined) {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.error !== undefined) w?.reject(new Error(m.error));
        else w?.resolve(m.result);
      }
    });
  });
  const rpc = ((cmd: string, ...args: unknown[]) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd, args });
    })) as ApprovalsServer['rpc'];
  return {
    url,
    output: () => out,
    rpc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.send({ id: 0, cmd: 'stop', args: [] });
      }),
  };
}

async function main(): Promise<void> {
  const { registry, startApprovalsNodeRed, makeProposal, realGateFlow, TestGate } =
    require('./approvals-gate.js') as typeof import('./approvals-gate.js');
  const raw = process.env.TWINLOOP_APPROVALS_USERS;
  const flow = [
    ...(process.env.TWINLOOP_APPROVALS_REAL_GATE === '1' ? realGateFlow() : []),
    ...(JSON.parse(process.env.TWINLOOP_APPROVALS_FLOW || '[]') as unknown[]),
  ];
  const red = await startApprovalsNodeRed(raw ? (JSON.parse(raw) as TestUser[]) : undefined, 'warn', flow);
  const dir = mkdtempSync(join(tmpdir(), 'twinloop-approvals-ledger-'));
  const gates = new Map<string, Awaited<ReturnType<typeof TestGate.open>>>();
  const gate = (id: string) => {
    const g = gates.get(id);
    if (!g) throw new Error(`no test gate ${id}`);
    return g;
  };
  const handlers: Record<string, (...a: any[]) => unknown> = {
    openGate: async (id: string, twoPerson: number | null, line?: string) => {
      const g = await TestGate.open(id, dir, twoPerson ?? Infinity);
      if (line) g.line = line;
      gates.set(id, g);
      registry.registerGate(g);
    },
    unregisterGate: (id: string) => registry.unregisterGate(gate(id).id),
    addProposal: (gateId: string, over: Partial<Proposal>, envelope?: Partial<EnvelopeCheck>) =>
      gate(gateId).addProposal(makeProposal(over), envelope),
    calls: (gateId: string) => ({
      decideCalls: gate(gateId).decideCalls,
      policyCalls: gate(gateId).policyCalls,
      autoApproval: gate(gateId).autoApproval(),
    }),
    state: (gateId: string, proposalId: string) => gate(gateId).state(proposalId),
    ledgerLocation: (gateId: string) => gate(gateId).ledgerLocation,
    openAlarmedGate: (id: string, name: string, reason: string, remedy: string) => {
      const { alarmedGateHandle } = require(
        join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-alarm.js'),
      ) as typeof import('../../runtime/control/gate-alarm.js');
      const { ENVELOPE } = require('./approvals-gate.js') as typeof import('./approvals-gate.js');
      registry.registerGate(
        alarmedGateHandle(
          {
            kind: 'setpoint',
            id,
            name,
            asset: ENVELOPE.asset,
            tag: 'alarmed_sp',
            envelope: ENVELOPE,
            envelopeVersion: 'v',
            twoPersonAboveStep: Infinity,
            ledgerLocation: join(dir, `${id}.jsonl`),
          },
          { reason, remedy },
        ),
      );
    },
    stop: async () => {
      for (const g of gates.values()) {
        registry.unregisterGate(g.id);
        await g.close();
      }
      for (const g of registry.listGates()) if (g.alarm) registry.unregisterGate(g.id);
      await red.stop();
      rmSync(red.home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    },
  };
  process.on('message', (m: { id: number; cmd: string; args: unknown[] }) => {
    void (async () => {
      try {
        const result = await handlers[m.cmd](...m.args);
        process.send!({ id: m.id, result });
      } catch (err) {
        process.send!({ id: m.id, error: (err as Error).message });
      }
    })();
  });
  // The parent going away (a crashed test run) takes this process with it.
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: red.url });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`approvals server: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
