/**
 * `npm run chaos`: the system as production runs it (three NATS nodes, two replicas of every
 * service, a balancer in front of the gateways), steady mixed load, one fault at a time, and a
 * table of what clients, callers and customer endpoints saw. A shorter run is part of `npm test`
 * (test/chaos/chaos.e2e-spec.ts). Everything runs on loopback.
 */
import { printReport, runChaos } from './support/chaos-run';

const log = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const report = await runChaos({
    load: {
      concurrency: Number(process.env.CHAOS_CONCURRENCY ?? 8),
      callShare: 0.3,
      updateShare: 0.2,
      expirySeconds: [15, 40],
      parties: 400,
      numbersPerProvider: 25,
    },
    // Longer than a session lives (40 s): the baseline's second half has expiries and callbacks in it.
    baselineMs: 60_000,
    settleMs: 15_000,
    steadyWithinMs: 60_000,
    natsDownMs: 10_000,
    storePauseMs: 10_000,
    drainTimeoutMs: 180_000,
    log,
  });
  printReport(report, log);
  // The rolling restart's target (no 5xx) holds for its aftermath too.
  const restart = report.faults.find((f) => f.fault.startsWith('rolling restart'));
  const broken =
    report.sessionsLost +
    report.doubleAllocations +
    report.orphanHolds +
    report.orphanPins +
    report.callbacksLost +
    report.duplicatesWithDifferentIds +
    (restart ? restart.api5xx + restart.api5xxAfter : 0) +
    report.faults.reduce((n, f) => n + f.callsInvalid, 0);
  log(broken === 0 ? '\nevery promise held' : `\n${broken} broken promises (see the tables)`);
  process.exitCode = broken === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
