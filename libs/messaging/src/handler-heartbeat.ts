/** What of a delivered message the heartbeat needs: JetStream's "still at work" (`JsMsg.working`). */
export interface WorkingMessage {
  working(): void;
}

export interface HeartbeatListener<M> {
  /** A message waited or was handled longer than the heartbeat keeps it: its event will be redelivered. */
  letGo(msg: M, ranMs: number): void;
}

/**
 * Tells the server that a consumer's handlers still at work are (JetStream's `working()`, which
 * starts the message's ack wait again), so that an event whose handler takes longer than the
 * consumer's ack wait is not delivered a second time while the first delivery still runs: a store
 * command may take up to its deadline (STORE_COMMAND_TIMEOUT_MS, 30 s by default), as long as the
 * default ack wait, and a handler makes several. For `keptMs` at most: past it a handler is taken as
 * stuck, the listener is told, and the server redelivers its event when the ack wait runs out, as it
 * does for a process gone. One timer per consumer, every third of its ack wait; a handler is told
 * of only once it has run that long, so quick handlers cost nothing.
 */
export class HandlerHeartbeat<M extends WorkingMessage = WorkingMessage> {
  private readonly handling = new Map<M, number>();
  private readonly every: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    ackWaitMs: number,
    private readonly keptMs: number,
    private readonly told: HeartbeatListener<M>,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.every = Math.max(1, Math.floor(ackWaitMs / 3));
    this.timer = setInterval(() => this.beat(), this.every);
    this.timer.unref();
  }

  started(msg: M): void {
    this.handling.set(msg, this.now());
  }

  ended(msg: M): void {
    this.handling.delete(msg);
  }

  stop(): void {
    clearInterval(this.timer);
    this.handling.clear();
  }

  /** Handlers at work for a third of the ack wait or more: told of at most two thirds into it. */
  private beat(): void {
    const now = this.now();
    for (const [msg, since] of this.handling) {
      const ran = now - since;
      if (ran < this.every) continue;
      if (ran > this.keptMs) {
        this.handling.delete(msg);
        this.told.letGo(msg, ran);
        continue;
      }
      // Never throws: on a closed connection the publish is dropped, and the server redelivers the
      // event when its ack wait runs out; on a message already settled it does nothing.
      msg.working();
    }
  }
}
