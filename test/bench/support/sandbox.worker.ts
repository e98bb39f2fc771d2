/**
 * The providers' REST APIs (deploy/local/provider-sandbox.cjs) on a thread of their own
 * (SandboxThread): a send is timed as it arrives, on the monotonic clock, by an event loop that
 * does nothing else, not by the bench's, which also sends every tenant's webhooks.
 */
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { monotonicMs } from './monotonic-clock';
import type { SandboxRequest, SandboxNews } from './sandbox-thread';

const { startProviderSandbox } = require(
  path.join((workerData as { root: string }).root, 'deploy', 'local', 'provider-sandbox.cjs'),
) as typeof import('../../../deploy/local/provider-sandbox.cjs');

/** Arrivals are handed to the bench in batches this often: not a wake-up of its loop per send. */
const FLUSH_MS = 50;

async function main(): Promise<void> {
  const port = parentPort!;
  let arrived: Array<[string, number]> = [];
  const flush = () => {
    if (arrived.length === 0) return;
    port.postMessage({ kind: 'arrived', arrivals: arrived } satisfies SandboxNews);
    arrived = [];
  };
  const timer = setInterval(flush, FLUSH_MS);
  const sandbox = await startProviderSandbox({
    onMessage: (m: { text: string }) => void arrived.push([m.text, monotonicMs()]),
  });
  port.on('message', (request: SandboxRequest) => {
    if (request.kind === 'hang') sandbox.hangAccount(request.account);
    else if (request.kind === 'answer') sandbox.answerAgain(request.account);
    else if (request.kind === 'flush') {
      flush();
      port.postMessage({ kind: 'flushed', id: request.id } satisfies SandboxNews);
    } else {
      clearInterval(timer);
      flush();
      void sandbox.close().then(() => port.close());
    }
  });
  port.postMessage({ kind: 'ready', url: sandbox.url } satisfies SandboxNews);
}

void main();
