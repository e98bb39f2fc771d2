import pino from 'pino';
import {
  CallProgressed,
  MessageRelayed,
  STORED_INTERACTION_WAIT_MS,
  type InteractionEnd,
} from '@maskline/contracts';
import { RetryLater, type EventMeta, type StoredInteractions } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { StoredInteractionGate } from './stored-interaction-gate';

const SESSION = '0193a2b4-0000-7000-8000-000000000001';
const PUBLISHED = Date.parse('2026-01-01T00:00:00.000Z');

/** A gate whose marks are `marked` (or whose KV fails), at `now` on its clock. */
function gateWith(marked: 'stored' | 'not stored' | 'kv fails') {
  const asked: Array<{ end: InteractionEnd; withinMs: number }> = [];
  const stored = {
    within: async (end: InteractionEnd, withinMs: number) => {
      asked.push({ end, withinMs });
      if (marked === 'kv fails') throw new Error('503');
      return marked === 'stored';
    },
  } as unknown as StoredInteractions;
  let now = PUBLISHED + 50;
  const metrics = new MetricsService('test');
  const gate = new StoredInteractionGate(stored, () => now, pino({ level: 'silent' }), metrics);
  return {
    gate,
    asked,
    at: (ms: number) => (now = PUBLISHED + ms),
    unstored: async () =>
      (await metrics.registry.getSingleMetricAsString('maskline_callbacks_before_stored_total')).match(
        / (\d+)$/m,
      )?.[1],
  };
}

const meta: EventMeta = {
  subject: 'x',
  streamSequence: 1,
  deliveryCount: 1,
  publishedAt: new Date(PUBLISHED),
};
const hangup = {
  subject: CallProgressed.subject,
  payload: CallProgressed.payload.parse({
    accountId: 'MAAAAAAAAAAAAAAAAAAA',
    sessionId: SESSION,
    callId: 'call-1',
    step: 'parties-hangup',
    at: '2026-01-01T00:00:00.000Z',
  }),
};
const outcome = (error: unknown) => (error instanceof RetryLater ? { retryInMs: error.delayMs } : error);

describe('StoredInteractionGate', () => {
  it('lets a callback about an interaction’s end go once session-service has stored it', async () => {
    const { gate, asked } = gateWith('stored');
    await expect(gate.clear(hangup, meta)).resolves.toBeUndefined();
    expect(asked).toEqual([{ end: { sessionId: SESSION, interactionId: 'call-1' }, withinMs: 500 }]);
  });

  it('asks nothing about an event that ends no interaction (a call answered)', async () => {
    const { gate, asked } = gateWith('not stored');
    const answered = { ...hangup, payload: { ...hangup.payload, step: 'first-party-answered' as const } };
    await expect(gate.clear(answered, meta)).resolves.toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('puts off a callback whose interaction is not stored yet, then lets it go once the wait is over, counted', async () => {
    const { gate, at, unstored } = gateWith('not stored');
    expect(outcome(await gate.clear(hangup, meta).catch((e: unknown) => e))).toEqual({ retryInMs: 1000 });
    // Near the end of the wait: put off only as long as is left.
    at(STORED_INTERACTION_WAIT_MS - 300);
    expect(outcome(await gate.clear(hangup, meta).catch((e: unknown) => e))).toEqual({ retryInMs: 300 });
    expect(await unstored()).toBe('0');
    at(STORED_INTERACTION_WAIT_MS);
    await expect(gate.clear(hangup, meta)).resolves.toBeUndefined();
    expect(await unstored()).toBe('1');
  });

  it('waits as for an unstored interaction when its mark cannot be asked for (NATS KV away)', async () => {
    const { gate, at } = gateWith('kv fails');
    const relayed = {
      subject: MessageRelayed.subject,
      payload: { sessionId: SESSION, messageId: 'm-1' },
    };
    expect(outcome(await gate.clear(relayed, meta).catch((e: unknown) => e))).toEqual({ retryInMs: 1000 });
    at(STORED_INTERACTION_WAIT_MS + 1);
    await expect(gate.clear(relayed, meta)).resolves.toBeUndefined();
  });
});
