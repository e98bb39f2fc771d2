import pino from 'pino';
import {
  STORED_INTERACTION_MARK_TTL_MS,
  STORED_INTERACTION_WAIT_MS,
  type InteractionEnd,
} from '@maskline/contracts';
import { RetryLater, type StoredInteractions } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { StoredInteractionGate, looksWithin, recheckDelayMs } from './stored-interaction-gate';

const PUBLISHED = new Date('2026-01-01T00:00:00.000Z');
const NOW = PUBLISHED.getTime() + 1_000;
const END: InteractionEnd = { sessionId: '0193a2b4-0000-7000-8000-000000000001', interactionId: 'call-1' };

/** A gate over marks that are `marked` (or a KV that fails). */
function gateWith(marked: 'stored' | 'not stored' | 'kv fails') {
  const stored = {
    isStored: async () => {
      if (marked === 'kv fails') throw new Error('503');
      return marked === 'stored';
    },
  } as unknown as StoredInteractions;
  const metrics = new MetricsService('test');
  return {
    gate: new StoredInteractionGate(stored, pino({ level: 'silent' }), metrics),
    unstored: async () =>
      (await metrics.registry.getSingleMetricAsString('maskline_callbacks_before_stored_total')).match(
        / (\d+)$/m,
      )?.[1],
  };
}
const outcome = (p: Promise<void>) =>
  p.then(
    () => 'goes',
    (e: unknown) => (e instanceof RetryLater ? { putOffMs: e.delayMs } : e),
  );

describe('StoredInteractionGate', () => {
  it('lets a callback about an interaction’s end go once session-service has stored it', async () => {
    expect(await outcome(gateWith('stored').gate.clear(END, 1, PUBLISHED, NOW))).toBe('goes');
  });

  it('puts off a callback whose interaction is not stored yet, 100 ms doubling to a second, for about the wait', async () => {
    const { gate, unstored } = gateWith('not stored');
    const looks = looksWithin(STORED_INTERACTION_WAIT_MS);
    const delays: number[] = [];
    for (let delivery = 1; delivery < looks; delivery++) {
      const o = await outcome(gate.clear(END, delivery, PUBLISHED, NOW));
      delays.push((o as { putOffMs: number }).putOffMs);
    }
    expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 1000]);
    expect(delays.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(STORED_INTERACTION_WAIT_MS - 1_000);
    expect(delays.reduce((a, b) => a + b)).toBeLessThanOrEqual(STORED_INTERACTION_WAIT_MS);
    // Then it goes without, counted.
    expect(await unstored()).toBe('0');
    expect(await outcome(gate.clear(END, looks, PUBLISHED, NOW))).toBe('goes');
    expect(await unstored()).toBe('1');
  });

  it('does not count one stored by its last look', async () => {
    const { gate, unstored } = gateWith('stored');
    expect(await outcome(gate.clear(END, looksWithin(STORED_INTERACTION_WAIT_MS) + 5, PUBLISHED, NOW))).toBe(
      'goes',
    );
    expect(await unstored()).toBe('0');
  });

  it('waits as for an unstored interaction when its mark cannot be asked for (NATS KV away)', async () => {
    const { gate } = gateWith('kv fails');
    expect(await outcome(gate.clear(END, 1, PUBLISHED, NOW))).toEqual({ putOffMs: 100 });
    expect(await outcome(gate.clear(END, looksWithin(STORED_INTERACTION_WAIT_MS), PUBLISHED, NOW))).toBe(
      'goes',
    );
  });

  it('counts one let through unstored once, however often it comes back (put off elsewhere)', async () => {
    const { gate, unstored } = gateWith('not stored');
    const looks = looksWithin(STORED_INTERACTION_WAIT_MS);
    for (const delivery of [looks, looks + 1, looks + 2]) {
      expect(await outcome(gate.clear(END, delivery, PUBLISHED, PUBLISHED.getTime() + 40_000))).toBe('goes');
    }
    expect(await unstored()).toBe('1');
  });

  it('holds no event older than half its mark’s lifetime (a backlog caught up on): its mark is gone', async () => {
    const { gate, unstored } = gateWith('not stored');
    const late = PUBLISHED.getTime() + STORED_INTERACTION_MARK_TTL_MS / 2 + 1;
    expect(await outcome(gate.clear(END, 1, PUBLISHED, late))).toBe('goes');
    expect(await unstored()).toBe('0');
  });

  it('spaces its looks by deliveries, whatever the clocks', () => {
    expect([1, 2, 3, 4, 5, 40].map(recheckDelayMs)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
