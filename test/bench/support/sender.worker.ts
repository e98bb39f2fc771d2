/**
 * Other tenants' webhooks on a thread of their own (SenderThread): each text sent at its instant on
 * the monotonic clock, signed as its provider signs, as another provider account's customers text
 * from their own phones, not on the loop that times the healthy account's texts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TelephonySimulator } from '@maskline/telephony-simulator';
import { until } from './monotonic-clock';
import type { SenderRequest, SenderNews } from './sender-thread';

const gatewayUrl = (workerData as { gatewayUrl: string }).gatewayUrl;
const port = parentPort!;

port.on('message', (request: SenderRequest) => {
  if (request.kind === 'close') return port.close();
  void send(request);
});

async function send({ id, tenants, plan }: Extract<SenderRequest, { kind: 'send' }>): Promise<void> {
  const sims = tenants.map((provider) => new TelephonySimulator(gatewayUrl, 'plivo', provider));
  const why = new Map<string, number>();
  const count = (reason: string) => why.set(reason, (why.get(reason) ?? 0) + 1);
  const inFlight: Array<Promise<void>> = [];
  for (const { atMs, tenant, from, to, text } of plan) {
    await until(atMs);
    inFlight.push(
      sims[tenant].text({ from, to, text }).then(
        ({ status }) => void (status !== 200 && count(`HTTP ${status}`)),
        (err: unknown) => void count(err instanceof Error ? err.message.slice(0, 80) : 'no answer'),
      ),
    );
  }
  await Promise.all(inFlight);
  port.postMessage({ kind: 'sent', id, why: [...why] } satisfies SenderNews);
}
