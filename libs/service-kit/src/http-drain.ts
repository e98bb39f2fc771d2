import type { Server } from 'node:http';

/**
 * A graceful stop for an HTTP server behind a balancer: once readiness is false it keeps serving
 * for `delayMs` (the time balancers take to stop sending), then stops accepting connections,
 * answers what is in flight (telling keep-alive clients to close), and resolves when nothing is
 * left or `graceMs` has passed. Only then may the rest of the service (NATS, the store) close.
 */
export class HttpDrain {
  private inFlight = 0;
  private draining = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly server: Server) {
    server.on('request', (_req, res) => {
      this.inFlight += 1;
      if (this.draining) res.setHeader('Connection', 'close');
      res.once('close', () => {
        this.inFlight -= 1;
        if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
    });
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Requests still unanswered when the grace ran out (0 when all were answered). */
  async drain({ delayMs, graceMs }: { delayMs: number; graceMs: number }): Promise<number> {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    this.server.closeIdleConnections();
    return this.inFlight;
  }
}
