/**
 * Flow idleness for replay: counts messages handed to a destination but not yet received, and
 * waits until that count is zero and nothing has moved for a full turn of the event loop
 * (setImmediate deliveries, promise callbacks and zero-delay timers included).
 */

export class InFlight {
  private pending = 0;
  /** Bumped on every send or receive, so a wait sees activity that started and finished meanwhile. */
  private activity = 0;

  /** A message was dispatched to a destination node (Node-RED's preDeliver). */
  dispatched(n = 1): void {
    this.pending += n;
    this.activity++;
  }

  /** A destination node got a message (Node-RED's onReceive). */
  received(): void {
    if (this.pending > 0) this.pending--;
    this.activity++;
  }

  /** Something happened that is not a delivery (a node sent to nowhere, say). */
  touched(): void {
    this.activity++;
  }

  get inFlight(): number {
    return this.pending;
  }

  /**
   * Resolve once idle. Quick (the default between time steps): nothing in flight and no activity
   * during one setImmediate turn, which is how Node-RED delivers messages. Full (`timers`, between
   * batches and at the end): in addition, a zero-delay timer turn and `settleMs` of quiet, for
   * nodes that answer through timers or promises.
   */
  async waitIdle(timers = false, settleMs = 0): Promise<void> {
    for (;;) {
      const before = this.activity;
      await new Promise<void>((r) => setImmediate(r));
      if (this.pending !== 0 || this.activity !== before) continue;
      if (!timers) return;
      await new Promise<void>((r) => setTimeout(r, 0));
      await new Promise<void>((r) => setImmediate(r));
      if (settleMs > 0 && this.pending === 0 && this.activity === before) await new Promise<void>((r) => setTimeout(r, settleMs));
      if (this.pending === 0 && this.activity === before) return;
    }
  }
}
