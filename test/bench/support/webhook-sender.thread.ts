import * as path from 'node:path';
import { WorkerHost } from './worker-host';

/** A text another tenant sends: at `atMs` (monotonic clock), from a party to its session's number. */
export interface PlannedText {
  atMs: number;
  /** Index into the plan's `tenants`. */
  tenant: number;
  from: string;
  to: string;
  text: string;
}

export type SenderRequest =
  | {
      kind: 'send';
      /** Each tenant's provider account (its webhooks are signed with its token). */
      tenants: Array<{ accountId: string; authToken: string }>;
      plan: PlannedText[];
    }
  | { kind: 'close' };

/** A plan sent: why some texts were not answered 200 (with their counts), and how late they went. */
export interface PlanSent {
  why: Array<[string, number]>;
  /** How late (ms) the thread sent each text after its instant. */
  lateMs: number[];
}

/**
 * Other tenants' webhooks, sent on a worker thread of the bench's process (webhook-sender.worker.ts):
 * the bench's own loop sends and times only the healthy account's texts, so another account's load
 * does not queue them in that loop.
 */
export class WebhookSenderThread {
  private constructor(private readonly host: WorkerHost<SenderRequest, null>) {}

  static async start(gatewayUrl: string): Promise<WebhookSenderThread> {
    const { host } = await WorkerHost.start<SenderRequest, null>(
      path.join(__dirname, 'webhook-sender.worker.js'),
      { gatewayUrl },
    );
    return new WebhookSenderThread(host);
  }

  /** Sends the plan; resolves once every text was answered. */
  send(tenants: Array<{ accountId: string; authToken: string }>, plan: PlannedText[]): Promise<PlanSent> {
    return this.host.ask<PlanSent>({ kind: 'send', tenants, plan });
  }

  close(): Promise<void> {
    return this.host.close({ kind: 'close' });
  }
}
