import * as path from 'node:path';
import { WorkerHost } from './worker-host';

export type SandboxRequest =
  | { kind: 'hang'; account: string }
  | { kind: 'answer'; account: string }
  /** Every arrival so far handed over, and the thread's loop delay since the last `flush`. */
  | { kind: 'flush' }
  | { kind: 'close' };

/** How late the sandbox's own loop ran (monitorEventLoopDelay), in ms. */
export interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

/** Texts the sandbox was asked to send, each with its arrival on the monotonic clock. */
export type SandboxArrivals = Array<[string, number]>;

/**
 * The providers' REST APIs (deploy/local/provider-sandbox.cjs) on a worker thread of the bench's
 * process (provider-sandbox.worker.ts): each send is timed as it arrives, on the monotonic clock, by
 * a loop that only serves the APIs, not by the bench's, which also sends webhooks. `arrivals` fills
 * as the thread reports (every 50 ms at most, and at each `flush`).
 */
export class ProviderSandboxThread {
  private constructor(
    private readonly host: WorkerHost<SandboxRequest, string, SandboxArrivals>,
    readonly url: string,
    /** Text → when the provider first received its send (monotonic ms). */
    readonly arrivals: ReadonlyMap<string, number>,
  ) {}

  static async start(): Promise<ProviderSandboxThread> {
    const arrivals = new Map<string, number>();
    const { host, ready } = await WorkerHost.start<SandboxRequest, string, SandboxArrivals>(
      path.join(__dirname, 'provider-sandbox.worker.js'),
      { root: process.cwd() },
      (batch) => {
        // The first arrival counts: a send made again (a redelivery) is not the relay's time.
        for (const [text, at] of batch) if (!arrivals.has(text)) arrivals.set(text, at);
      },
    );
    return new ProviderSandboxThread(host, ready, arrivals);
  }

  hangAccount(account: string): void {
    this.host.tell({ kind: 'hang', account });
  }

  answerAgain(account: string): void {
    this.host.tell({ kind: 'answer', account });
  }

  /** Every arrival so far reported; how late the thread's loop ran since the last flush. */
  flush(): Promise<LoopDelay> {
    return this.host.ask<LoopDelay>({ kind: 'flush' });
  }

  close(): Promise<void> {
    return this.host.close({ kind: 'close' });
  }
}
