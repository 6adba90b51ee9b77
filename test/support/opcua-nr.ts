// Helpers for the OPC UA node specs: record every node's status and error calls (including those made
// in a node's constructor, before a status or catch node could see them).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor as waitForAny } from './ports.js';

const NodeClass = require('@node-red/runtime/lib/nodes/Node.js') as { prototype: Record<string, (...a: unknown[]) => unknown> };

export interface NodeStatus {
  fill?: string;
  shape?: string;
  text?: string;
}

export interface Recorder {
  statuses(id: string): NodeStatus[];
  lastStatus(id: string): NodeStatus | undefined;
  errors(id: string): Array<{ message: string; msg?: unknown; code?: string }>;
  restore(): void;
}

/** Patch Node.prototype.status/error to record calls per node id (restore() undoes it). */
export function recordNodeCalls(): Recorder {
  const statuses = new Map<string, NodeStatus[]>();
  const errors = new Map<string, Array<{ message: string; msg?: unknown; code?: string }>>();
  const origStatus = NodeClass.prototype.status;
  const origError = NodeClass.prototype.error;
  NodeClass.prototype.status = function (this: { id: string }, s: unknown) {
    const list = statuses.get(this.id) ?? [];
    list.push((typeof s === 'string' ? { text: s } : s) as NodeStatus);
    statuses.set(this.id, list);
    return origStatus.call(this, s);
  };
  NodeClass.prototype.error = function (this: { id: string }, e: unknown, msg?: unknown) {
    const list = errors.get(this.id) ?? [];
    const err = e as { message?: string; code?: string };
    list.push({ message: typeof e === 'string' ? e : String(err?.message ?? e), msg, code: err?.code });
    errors.set(this.id, list);
    return origError.call(this, e, msg);
  };
  return {
    statuses: (id) => statuses.get(id) ?? [],
    lastStatus: (id) => statuses.get(id)?.at(-1),
    errors: (id) => errors.get(id) ?? [],
    restore: () => {
      NodeClass.prototype.status = origStatus;
      NodeClass.prototype.error = origError;
    },
  };
}

export function tempUserDir(prefix: string): string {
  return mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), prefix));
}

/** waitFor (test/support/ports.ts), typed to its truthy result. */
export function waitUntil<T>(
  check: () => T,
  timeoutMs: number,
  everyMs: number,
  what: string,
): Promise<Exclude<T, undefined | false | null | 0 | ''>> {
  return waitForAny(check, timeoutMs, everyMs, what) as Promise<Exclude<T, undefined | false | null | 0 | ''>>;
}

/** The little of a Node-RED node the specs use. */
export interface NodeLike {
  on(event: 'input', cb: (msg: never) => void): void;
  receive(msg: object): void;
}
