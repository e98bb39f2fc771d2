import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export type SandboxRequest =
  | { kind: 'hang'; account: string }
  | { kind: 'answer'; account: string }
  | { kind: 'flush'; id: number }
  | { kind: 'close' };

export type SandboxNews =
  | { kind: 'ready'; url: string }
  /** Texts the sandbox was asked to send, each with its arrival on the monotonic clock. */
  | { kind: 'arrived'; arrivals: Array<[string, number]> }
  | { kind: 'flushed'; id: number };

/**
 * The provider sandbox on a worker thread of the bench's process (sandbox.worker.ts): each send
 * is timed on arrival by a loop of its own (monotonic clock), so what the bench's loop does
 * meanwhile (another account's webhooks) is not counted in the relay's time, as it would not be at
 * a provider on another machine. `arrivals` fills as the thread reports, every 50 ms at most.
 */
export class SandboxThread {
  /** Text → when the provider received its send (monotonic ms). */
  readonly arrivals = new Map<string, number>();
  private readonly flushed = new Map<number, () => void>();
  private nextFlush = 0;

  private constructor(
    private readonly worker: Worker,
    readonly url: string,
  ) {
    worker.on('message', (news: SandboxNews) => {
      if (news.kind === 'arrived') for (const [text, at] of news.arrivals) this.arrivals.set(text, at);
      else if (news.kind === 'flushed') this.flushed.get(news.id)?.();
    });
  }

  static async start(): Promise<SandboxThread> {
    const worker = new Worker(path.join(__dirname, 'sandbox.worker.js'), {
      workerData: { root: process.cwd() },
    });
    const url = await new Promise<string>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the sandbox thread exited (${code})`)));
      worker.once('message', (news: SandboxNews) => {
        if (news.kind === 'ready') resolve(news.url);
        else reject(new Error(`the sandbox thread said ${news.kind} first`));
      });
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    // A thread that fails later fails the bench, never a run that waits for ever.
    worker.on('error', (err) => {
      throw err;
    });
    return new SandboxThread(worker, url);
  }

  hangAccount(account: string): void {
    this.worker.postMessage({ kind: 'hang', account } satisfies SandboxRequest);
  }

  answerAgain(account: string): void {
    this.worker.postMessage({ kind: 'answer', account } satisfies SandboxRequest);
  }

  /** Every arrival so far reported (the thread's batch handed over now). */
  flush(): Promise<void> {
    const id = this.nextFlush++;
    return new Promise((resolve) => {
      this.flushed.set(id, () => {
        this.flushed.delete(id);
        resolve();
      });
      this.worker.postMessage({ kind: 'flush', id } satisfies SandboxRequest);
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.worker.postMessage({ kind: 'close' } satisfies SandboxRequest);
    await exited;
  }
}
