/**
 * Pieces every TwinLoop processing node's adapter needs: refusing input under an invalid config,
 * and a status line that follows counts without flooding the editor.
 */
import type { Node, NodeMessageInFlow } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { errorStatusText, statusError, statusOk, statusWarn } from './status.js';

type Translate = (key: string, vars?: Record<string, string | number>) => string;

/**
 * An invalid config: log it, show it, and refuse every input with a clear error. Passing data on
 * unprocessed (or processing it with a config nobody meant) would let bad results look good.
 */
export function refuseInputs(node: Node, t: Translate, reason: string): void {
  node.error(t('errors.config', { error: reason }));
  statusError(node, t('status.config'));
  node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
    done(new TwinError('BAD_CONFIG', t('errors.notConfigured', { error: reason })));
  });
}

/** `1234` → `1.2k`, for counts in a status line (under 20 characters). */
export function compactCount(n: number): string {
  return n < 1000 ? String(n) : n < 1e6 ? `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k` : `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

/**
 * At most one status update per `everyMs` (per-message updates would flood the editor at high
 * rates); an error shows at once and stays visible that long. `render` gives the text and whether
 * it is a warning (yellow) rather than green.
 */
export class ThrottledStatus {
  private timer: NodeJS.Timeout | undefined;
  private lastMs = 0;
  private showingError = false;

  constructor(
    private readonly node: Node,
    private readonly render: () => { text: string; warn: boolean },
    private readonly everyMs = 1000,
  ) {}

  /** Something the status shows has changed. */
  changed(): void {
    if (this.timer !== undefined) return;
    const waitMs = this.showingError ? this.everyMs : this.lastMs + this.everyMs - Date.now();
    if (waitMs <= 0) this.update();
    else this.timer = setTimeout(() => this.update(), waitMs);
  }

  error(err: unknown): void {
    this.showingError = true;
    this.cancel();
    statusError(this.node, errorStatusText(err));
  }

  close(): void {
    this.cancel();
  }

  private update(): void {
    this.timer = undefined;
    this.lastMs = Date.now();
    this.showingError = false;
    const { text, warn } = this.render();
    if (warn) statusWarn(this.node, text);
    else statusOk(this.node, text);
  }

  private cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Which outputs have a wire (fixed until the next deploy, which builds the node afresh). A message
 * sent to an output with none still costs Node-RED a message id and a send: a node need not build
 * messages nobody receives (twin-drift's scores, when only its events are wired).
 */
export function wiredOutputs(node: Node): boolean[] {
  const wires = (node as unknown as { wires?: unknown }).wires;
  return Array.isArray(wires) ? wires.map((w) => Array.isArray(w) && w.length > 0) : [];
}
