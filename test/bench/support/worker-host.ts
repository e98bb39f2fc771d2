import { Worker } from 'node:worker_threads';

/** What the bench sends a worker: a request, with an id when it waits for the answer. */
export interface WorkerEnvelope<Request> {
  id?: number;
  request: Request;
}

/** What a bench worker says to the bench (worker-port.ts). */
export type WorkerReport<Ready, News> =
  | { kind: 'ready'; value: Ready }
  | { kind: 'reply'; id: number; value?: unknown; error?: string }
  | { kind: 'news'; value: News };

/** How long a worker asked to close may take before it is stopped. */
const CLOSE_GRACE_MS = 10_000;

/**
 * A worker thread of a bench, on the bench's side: started once it says it is ready, asked
 * requests answered by id. Its failure (an error, an exit) fails every request waiting and every
 * later one, so the bench ends through its own `finally` (its processes stopped), never waiting for
 * ever on a thread that is gone.
 */
export class WorkerHost<Request, Ready, News = never> {
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    onNews: (news: News) => void,
  ) {
    worker.on('message', (report: WorkerReport<Ready, News>) => {
      if (report.kind === 'news') return onNews(report.value);
      if (report.kind !== 'reply') return;
      const waiting = this.pending.get(report.id);
      this.pending.delete(report.id);
      if (report.error !== undefined) waiting?.reject(new Error(report.error));
      else waiting?.resolve(report.value);
    });
    worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.fail(new Error(`the bench's worker thread exited (${code})`));
        resolve();
      }),
    );
  }

  /** Starts `file` (a compiled worker) and resolves once it is ready, with what it said. */
  static async start<Request, Ready, News = never>(
    file: string,
    workerData: unknown,
    onNews: (news: News) => void = () => undefined,
  ): Promise<{ host: WorkerHost<Request, Ready, News>; ready: Ready }> {
    const worker = new Worker(file, { workerData });
    const ready = new Promise<Ready>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the bench's worker thread exited (${code})`)));
      worker.on('message', (report: WorkerReport<Ready, News>) => {
        if (report.kind === 'ready') resolve(report.value);
      });
    });
    const host = new WorkerHost<Request, Ready, News>(worker, onNews);
    return { host, ready: await ready };
  }

  /** The worker's answer to `request`, or its failure (or the thread's). */
  ask<T>(request: Request): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, request } satisfies WorkerEnvelope<Request>);
    });
  }

  /** `request`, unanswered; thrown at once if the thread has failed. */
  tell(request: Request): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage({ request } satisfies WorkerEnvelope<Request>);
  }

  /** Asks the worker to close with `request`; stopped if it has not within CLOSE_GRACE_MS. */
  async close(request: Request): Promise<void> {
    if (!this.failure) this.worker.postMessage({ request } satisfies WorkerEnvelope<Request>);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>(
      (resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS)),
    );
    if ((await Promise.race([this.exited, late])) === 'late') await this.worker.terminate();
    clearTimeout(timer);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }
}
