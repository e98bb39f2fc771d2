import pino from 'pino';
import type { MessagingOptions } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { kvReplicasForSuite } from '@maskline/testing';
import { CLOCK_OFFSET_WARN_MS, ClockOffsetProbe } from './clock-offset.probe';

describe("a replica's clock against the NATS server's (real NATS KV)", () => {
  const replicas = kvReplicasForSuite('clock-probe');

  /** A probe on its own connection whose clock is `aheadMs` ahead of this machine's; what it logs. */
  async function probe(aheadMs: number) {
    const { kv } = await replicas.replica();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const metrics = new MetricsService(`clock-${aheadMs}`);
    const clock = () => Date.now() + aheadMs;
    const p = new ClockOffsetProbe(
      kv,
      { service: 'clock-probe' } as unknown as MessagingOptions,
      clock,
      logger,
      metrics,
    );
    await kv.onModuleInit();
    const gauge = async () =>
      (await metrics.registry.getSingleMetricAsString('maskline_clock_offset_seconds')).match(
        /^maskline_clock_offset_seconds\{[^}]*\} (\S+)$/m,
      )?.[1];
    return { p, lines, gauge };
  }

  it("finds a clock in step with the server's (to within half a round trip), and says nothing", async () => {
    const { p, lines, gauge } = await probe(0);
    const started = Date.now();
    const offset = await p.measure();
    const roundTrip = Date.now() - started;
    expect(Math.abs(offset)).toBeLessThanOrEqual(roundTrip / 2 + 1);
    expect(Number(await gauge())).toBeCloseTo(offset / 1000, 3);
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('finds a clock two hours ahead, exports it, and warns', async () => {
    const { p, lines, gauge } = await probe(7_200_000);
    const started = Date.now();
    const offset = await p.measure();
    const roundTrip = Date.now() - started;
    expect(Math.abs(offset - 7_200_000)).toBeLessThanOrEqual(roundTrip / 2 + 1);
    expect(Number(await gauge())).toBeCloseTo(offset / 1000, 3);
    expect(lines.filter((l) => l.level === 40)).toEqual([
      expect.objectContaining({ offsetMs: Math.round(offset) }),
    ]);
  });

  it('says nothing of a clock off by less than the warning threshold', async () => {
    const { p, lines } = await probe(CLOCK_OFFSET_WARN_MS / 2);
    await p.measure();
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
  });
});
