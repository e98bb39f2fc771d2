import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** A text another tenant sends: at `atMs` (monotonic clock), from a party to its session's number. */
export interface PlannedText {
  atMs: number;
  /** Index into the request's `tenants`. */
  tenant: number;
  from: string;
  to: string;
  text: string;
}

export type SenderRequest =
  | {
      kind: 'send';
      id: number;
      /** Each tenant's provider account (its webhooks are signed with its token). */
      tenants: Array<{ accountId: string; authToken: string }>;
      plan: PlannedText[];
    }
  | { kind: 'close' };

/** Every planned text sent and answered: the reasons of those not answered 200, with their counts. */
export type SenderNews = { kind: 'sent'; id: number; why: Array<[string, number]> };

/**
 * Other tenants' webhooks, sent on a worker thread of the bench's process (sender.worker.ts): the
 * bench's own loop sends and times only the healthy account's texts, so another account's load
 * reaches the healthy one through Maskline (its processes and the two cores they share), not
 * through the bench's loop, as two providers' webhooks would come from machines of their own.
 */
export class SenderThread {
  private readonly worker: Worker;
  private readonly done = new Map<number, (why: Array<[string, number]>) => void>();
  private nextId = 0;

  constructor(gatewayUrl: string) {
    this.worker = new Worker(path.join(__dirname, 'sender.worker.js'), { workerData: { gatewayUrl } });
    this.worker.on('message', (news: SenderNews) => this.done.get(news.id)?.(news.why));
    // A thread that fails fails the bench, never a run that waits for ever.
    this.worker.on('error', (err) => {
      throw err;
    });
  }

  /** Sends the plan; resolves once every text was answered, with why some were not answered 200. */
  send(
    tenants: Array<{ accountId: string; authToken: string }>,
    plan: PlannedText[],
  ): Promise<Map<string, number>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.done.set(id, (why) => {
        this.done.delete(id);
        resolve(new Map(why));
      });
      this.worker.postMessage({ kind: 'send', id, tenants, plan } satisfies SenderRequest);
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.worker.postMessage({ kind: 'close' } satisfies SenderRequest);
    await exited;
  }
}
