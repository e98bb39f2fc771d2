/**
 * The providers' REST APIs (deploy/local/provider-sandbox.cjs) on a thread of their own
 * (ProviderSandboxThread): a send is timed as it arrives, on the monotonic clock, by an event loop
 * that serves nothing else.
 */
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { monotonicMs } from './monotonic-clock';
import type { LoopDelay, SandboxArrivals, SandboxRequest } from './provider-sandbox.thread';
import { serveBench } from './worker-port';

const { startProviderSandbox } = require(
  path.join((workerData as { root: string }).root, 'deploy', 'local', 'provider-sandbox.cjs'),
) as typeof import('../../../deploy/local/provider-sandbox.cjs');

/** Arrivals are handed to the bench in batches this often: not a wake-up of its loop per send. */
const FLUSH_MS = 50;

async function main(): Promise<void> {
  let arrived: SandboxArrivals = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const sandbox = await startProviderSandbox({
    onMessage: (m: { text: string }) => void arrived.push([m.text, monotonicMs()]),
  });
  const bench = serveBench<SandboxRequest, string, SandboxArrivals>(
    (request) => {
      if (request.kind === 'hang') return sandbox.hangAccount(request.account);
      if (request.kind === 'answer') return sandbox.answerAgain(request.account);
      flush();
      const delay: LoopDelay = { p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 };
      loop.reset();
      return delay;
    },
    async () => {
      clearInterval(timer);
      flush();
      loop.disable();
      await sandbox.close();
    },
  );
  const flush = () => {
    if (arrived.length === 0) return;
    bench.news(arrived);
    arrived = [];
  };
  const timer = setInterval(flush, FLUSH_MS);
  bench.ready(sandbox.url);
}

void main();
