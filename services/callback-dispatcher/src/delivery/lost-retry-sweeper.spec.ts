import type { Logger } from 'pino';
import type { EventRetention, SweepTurns } from '@maskline/messaging';
import type { MetricsService } from '@maskline/observability';
import type { CallbackDeliverer } from './callback-deliverer';
import { LostRetrySweeper } from './lost-retry-sweeper';
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
});

/** A sweeper over watches by block (none of whose retries came), the stream's first event at `first`. */
function sweeper(world: { first: number | undefined; cursor?: number; blocks: Record<number, string[]> }) {
  const lettered: string[] = [];
  const read: number[] = [];
  let cursor = world.cursor;
  const watch = {
    cursor: async () => cursor,
    setCursor: async (b: number) => void (cursor = b),
    lowestBlock: async () => {
      const blocks = Object.keys(world.blocks).map(Number);
      return blocks.length ? Math.min(...blocks) : undefined;
    },
    ofBlock: async (b: number): Promise<WatchEntry[]> => {
      read.push(b);
      return (world.blocks[b] ?? []).map((id, i) => ({ revision: i + 1, retry: retry(id) }));
    },
    came: async () => false,
    forget: async () => undefined,
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
  return { subject, lettered, read, cursor: () => cursor };
}

describe('the lost retry sweep', () => {
  it('judges nothing lost while it cannot read where the stream begins', async () => {
    const { subject, lettered, read } = sweeper({ first: undefined, blocks: { 0: ['a'] } });
    await expect(subject.sweep()).resolves.toBe(0);
    expect(lettered).toEqual([]);
    expect(read).toEqual([]);
  });

  it('reads only blocks the stream has wholly forgotten, from where it stopped', async () => {
    const { subject, lettered, read, cursor } = sweeper({
      first: 2 * WATCH_BLOCK + 1,
      cursor: 1,
      blocks: { 0: ['swept-already'], 1: ['b'], 2: ['still-held'] },
    });
    await expect(subject.sweep()).resolves.toBe(1);
    expect(lettered).toEqual(['b']);
    expect(read).toEqual([1]);
    expect(cursor()).toBe(2);
  });

  it('goes back to the lowest block watched when the stream was made again (its numbering starts over)', async () => {
    const { subject, lettered, cursor } = sweeper({
      first: WATCH_BLOCK + 1,
      cursor: 900,
      blocks: { 0: ['after-remake'] },
    });
    await expect(subject.sweep()).resolves.toBe(1);
    expect(lettered).toEqual(['after-remake']);
    expect(cursor()).toBe(1);
  });

  it('reads a bounded number of blocks a run, and goes on at the next', async () => {
    const { subject, read, cursor } = sweeper({ first: 100 * WATCH_BLOCK, cursor: 0, blocks: {} });
    await subject.sweep();
    expect(read).toHaveLength(64);
    await subject.sweep();
    expect(read).toHaveLength(100);
    expect(cursor()).toBe(100);
  });
});
