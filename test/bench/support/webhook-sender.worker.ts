/**
 * Other tenants' webhooks on a thread of their own (WebhookSenderThread): each text sent at its
 * instant on the monotonic clock, signed as its provider signs.
 */
import { workerData } from 'node:worker_threads';
import { TelephonySimulator } from '@maskline/telephony-simulator';
import { monotonicMs, waitUntil } from './monotonic-clock';
import type { PlanSent, SenderRequest } from './webhook-sender.thread';
import { serveBench } from './worker-port';

const gatewayUrl = (workerData as { gatewayUrl: string }).gatewayUrl;

serveBench<SenderRequest, null>(send).ready(null);

async function send({ tenants, plan }: Extract<SenderRequest, { kind: 'send' }>): Promise<PlanSent> {
  const sims = tenants.map((provider) => new TelephonySimulator(gatewayUrl, 'plivo', provider));
  const why = new Map<string, number>();
  const count = (reason: string) => why.set(reason, (why.get(reason) ?? 0) + 1);
  const late: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  for (const { atMs, tenant, from, to, text } of plan) {
    await waitUntil(atMs);
    late.push(monotonicMs() - atMs);
    inFlight.push(
      sims[tenant].text({ from, to, text }).then(
        ({ status }) => void (status !== 200 && count(`HTTP ${status}`)),
        (err: unknown) => void count(err instanceof Error ? err.message.slice(0, 80) : 'no answer'),
      ),
    );
  }
  await Promise.all(inFlight);
  return { why: [...why], lateMs: late };
}
