import type { Logger } from 'pino';
import type { EventRetention, SweepTurns } from '@maskline/messaging';
import type { MetricsService } from '@maskline/observability';
import type { CallbackDeliverer } from './callback-deliverer';
import { LostRetrySweeper, WATCHES_PER_RUN } from './lost-retry-sweeper';
import { WATCH_BLOCK, type LostRetryWatch, type WatchEntry, type WatchedRetry } from './lost-retry-watch';

const retry = (eventId: string): WatchedRetry => ({
  eventId,
  attemptKey: eventId,
  attempts: 1,
  url: 'http://127.0.0.1:9/hook',
  callback: {
    accountId: 'MA0',
    sessionId: 's',
    target: 'session',
    eventName: 'SessionTimeout',
    params: {},
  },
  sequence: 1,
  subaccountId: null,
  failedAt: 0,
});

/**
 * A sweeper over watches left (retries that never came), by block: each an event id and its
 * position on the stream; the stream's first event at `first`.
 */
function sweeper(world: {
  first: number | undefined;
  cursor?: number;
  blocks: Record<number, Array<[string, number]>>;
}) {
  const lettered: string[] = [];
  const read: number[] = [];
  const forgotten: string[] = [];
  let cursor = world.cursor;
  const watch = {
    cursor: async () => cursor,
    setCursor: async (b: number) => void (cursor = b),
    lowestBlock: async () => {
      const blocks = Object.keys(world.blocks).map(Number);
      return blocks.length ? Math.min(...blocks) : undefined;
    },
    ofBlock: async (b: number, before: number, atMost: number): Promise<WatchEntry[]> => {
      read.push(b);
      return (world.blocks[b] ?? [])
        .filter(([id, seq]) => seq < before && !forgotten.includes(id))
        .slice(0, atMost)
        .map(([id, seq], i) => ({ streamSequence: seq, revision: i + 1, retry: retry(id) }));
    },
    forget: async (entries: WatchEntry[]) => {
      for (const e of entries) forgotten.push(e.retry!.eventId);
    },
  } as unknown as LostRetryWatch;
  const subject = new LostRetrySweeper(
    watch,
    { read: async () => undefined, firstSequence: () => world.first } as unknown as EventRetention,
    {
      deadLetterLost: async (r: WatchedRetry) => void lettered.push(r.eventId),
    } as unknown as CallbackDeliverer,
    () => 0,
    { error: () => undefined } as unknown as Logger,
    { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService,
    { turnsOf: () => async () => true } as unknown as SweepTurns,
  );
  return { subject, lettered, read, forgotten, cursor: () => cursor };
}

const B = WATCH_BLOCK;

describe('the lost retry sweep', () => {
  it('judges nothing lost while it cannot read where the stream begins', async () => {
    const { subject, lettered, read } = sweeper({ first: undefined, blocks: { 0: [['a', 5]] } });
    await expect(subject.sweep()).resolves.toBe(0);
    expect(lettered).toEqual([]);
    expect(read).toEqual([]);
  });

  it('dead-letters the watches left of events the stream has forgotten, from where it stopped, and no others', async () => {
    const { subject, lettered, forgotten, cursor } = sweeper({
      first: 2 * B + 100,
      cursor: 1,
      blocks: {
        0: [['swept-already', 5]],
        1: [['lost', B + 7]],
        // The block the stream is forgetting now: what is before its first event is lost, the rest held.
        2: [
          ['lost-too', 2 * B + 99],
          ['held', 2 * B + 100],
        ],
      },
    });
    await expect(subject.sweep()).resolves.toBe(2);
    expect(lettered).toEqual(['lost', 'lost-too']);
    expect(forgotten).toEqual(['lost', 'lost-too']);
    // It goes on at the block the stream is forgetting.
    expect(cursor()).toBe(2);
    await expect(subject.sweep()).resolves.toBe(0);
  });

  it('goes back to the lowest block watched when the stream was made again (its numbering starts over)', async () => {
    const { subject, lettered, cursor } = sweeper({
      first: B + 1,
      cursor: 900,
      blocks: { 0: [['after-remake', 3]] },
    });
    await expect(subject.sweep()).resolves.toBe(1);
    expect(lettered).toEqual(['after-remake']);
    expect(cursor()).toBe(1);
  });

  it('never sets out past the stream when the lowest watch is ahead of it (no listing of every watch at each run)', async () => {
    const { subject, cursor } = sweeper({
      first: B + 1,
      cursor: undefined,
      blocks: { 5: [['ahead', 5 * B]] },
    });
    await subject.sweep();
    expect(cursor()).toBe(1);
  });

  it('reads a bounded number of blocks and watches a run, and goes on at the next', async () => {
    const { subject, read, cursor } = sweeper({ first: 100 * B, cursor: 0, blocks: {} });
    await subject.sweep();
    expect(read).toHaveLength(64);
    await subject.sweep();
    // The 37th read is block 100, the stream's current one.
    expect(read).toHaveLength(101);
    expect(cursor()).toBe(100);

    const many = Array.from({ length: WATCHES_PER_RUN + 5 }, (_, i): [string, number] => [`w${i}`, i]);
    const flooded = sweeper({ first: 2 * B, cursor: 0, blocks: { 0: many } });
    await expect(flooded.subject.sweep()).resolves.toBe(WATCHES_PER_RUN);
    expect(flooded.cursor()).toBe(0);
    await expect(flooded.subject.sweep()).resolves.toBe(5);
  });
});
