import { printReport, runChaos, type ChaosReport } from './support/chaos-run';

/**
 * A shorter chaos run than `npm run chaos`: the same system (three NATS nodes, two replicas of
 * every service, a balancer) and the same five faults under lighter, steady load.
 */
describe('chaos under load (three NATS nodes, two replicas of everything)', () => {
  let report: ChaosReport;
  const lines: string[] = [];

  beforeAll(async () => {
    report = await runChaos({
      load: {
        concurrency: 4,
        callShare: 0.3,
        updateShare: 0.2,
        expirySeconds: [10, 25],
        parties: 200,
        numbersPerProvider: 15,
      },
      // Longer than a session lives (25 s): the baseline's second half has expiries and callbacks in it.
      baselineMs: 30_000,
      settleMs: 6_000,
      steadyWithinMs: 24_000,
      natsDownMs: 6_000,
      storePauseMs: 10_000,
      drainTimeoutMs: 120_000,
      log: (line) => lines.push(line),
    });
    printReport(report, (line) => lines.push(line));
    process.stdout.write(`${lines.join('\n')}\n`);
  }, 600_000);

  it('ran every fault under load', () => {
    expect(report.faults.map((f) => f.fault)).toHaveLength(5);
    expect(report.sessionsCreated).toBeGreaterThan(50);
    expect(report.faults.reduce((n, f) => n + f.calls, 0)).toBeGreaterThan(10);
  });

  it('answers every API request, whatever the fault: no dropped connection, no hang', () => {
    // The 5xx of each fault are printed, not asserted: a rolling restart does not yet meet its
    // target of none (see the note).
    expect(report.faults.map((f) => [f.fault, f.apiNoAnswer])).toEqual(
      report.faults.map((f) => [f.fault, 0]),
    );
  });

  it('answers every call with valid XML, whatever the fault', () => {
    expect(report.faults.map((f) => [f.fault, f.callsInvalid, f.notes])).toEqual(
      report.faults.map((f) => [f.fault, 0, []]),
    );
  });

  it('loses no session, allocates no number twice, and leaves no number or PIN held', () => {
    expect({
      lost: report.sessionsLost,
      double: report.doubleAllocations,
      holds: report.orphanHolds,
      pins: report.orphanPins,
    }).toEqual({ lost: 0, double: 0, holds: 0, pins: 0 });
  });

  it('loses no callback, and a duplicate carries the event id of its original', () => {
    expect(report.callbacksExpected).toBeGreaterThan(0);
    expect(report.callbacksLost).toBe(0);
    expect(report.duplicatesWithDifferentIds).toBe(0);
  });

  it('drains each gateway on SIGTERM: it exits cleanly', () => {
    expect(report.gatewayDrains).toEqual(['gateway#1 exited with code 0', 'gateway#2 exited with code 0']);
  });
});
