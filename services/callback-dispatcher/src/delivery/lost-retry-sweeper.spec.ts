import type { Logger } from 'pino';
import type { EventRetention, SweepTurns } from '@maskline/messaging';
import type { MetricsService } from '@maskline/observability';
import type { CallbackDeliverer } from './callback-deliverer';
import { LostRetrySweeper, WATCHES_PER_RUN } from './lost-retry-sweeper';
import {
  WATCH_BLOCK,
  type LostRetryWatch,
  type SweepCursor,
  type WatchEntry,
  type WatchedRetry,
} from './lost-retry-watch';

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
 * position on the stream; the stream's first event at `first`, and at the last run `cursor.first`.
 */
function sweeper(world: {
  first: number | undefined;
  cursor?: SweepCursor;
  blocks: Record<number, Array<[string, number]>>;
  /** Listed, but gone when read (its callback ended meanwhile). */
  vanished?: string[];
  /** Delivered after all (a watch NATS did not remove): not dead-lettered. */
  delivered?: string[];
  /** The store refuses their dead letters, once; or always. */
  refusedOnce?: string[];
  refusedAlways?: string[];
}) {
  const lettered: string[] = [];
  const read: number[] = [];
  const forgotten: string[] = [];
  const refused = new Set(world.refusedOnce);
  /** Failed sweeps, by id, of the watches moved to be tried again; and where they went. */
  const failures = new Map<string, number>();
  const movedTo: number[] = [];
  let cursor = world.cursor;
  const watch = {
    cursor: async () => cursor ?? {},
    setCursor: async (c: SweepCursor) => void (cursor = c),
    lowestBlock: async () => {
      const blocks = Object.keys(world.blocks).map(Number);
      return blocks.length ? Math.min(...blocks) : undefined;
    },
    ofBlock: async (b: number, before: number, atMost: number) => {
      read.push(b);
      const listed = (world.blocks[b] ?? []).filter(([id, seq]) => seq < before && !forgotten.includes(id));
      const entries: WatchEntry[] = listed
        .slice(0, atMost)
        .filter(([id]) => !world.vanished?.includes(id))
        .map(([id, seq], i) => ({
          streamSequence: seq,
          revision: i + 1,
          retry: { ...retry(id), sweepFailures: failures.get(id) },
        }));
      return { entries, complete: listed.length <= atMost };
    },
    forget: async (entries: WatchEntry[]) => {
      for (const e of entries) forgotten.push(e.retry!.eventId);
    },
    tryAgainIn: async (b: number, e: WatchEntry & { retry: WatchedRetry }) => {
      const id = e.retry.eventId;
      failures.set(id, (e.retry.sweepFailures ?? 0) + 1);
      movedTo.push(b);
      for (const list of Object.values(world.blocks)) {
        const at = list.findIndex(([listed]) => listed === id);
        if (at >= 0) list.splice(at, 1);
      }
      (world.blocks[b] ??= []).push([id, e.streamSequence]);
    },
  } as unknown as LostRetryWatch;
  const subject = new LostRetrySweeper(
    watch,
    { read: async () => undefined, firstSequence: () => world.first } as unknown as EventRetention,
    {
      deadLetterLost: async (r: WatchedRetry) => {
        if (refused.delete(r.eventId) || world.refusedAlways?.includes(r.eventId)) {
          throw new Error('the store is unavailable');
        }
        if (world.delivered?.includes(r.eventId)) return false;
        lettered.push(r.eventId);
        return true;
      },
    } as unknown as CallbackDeliverer,
    () => 0,
    { error: () => undefined, warn: () => undefined } as unknown as Logger,
    { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService,
    { turnsOf: () => async () => true } as unknown as SweepTurns,
  );
  return { subject, lettered, read, forgotten, movedTo, failures, cursor: () => cursor };
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
      cursor: { block: 1, first: 2 * B + 100 },
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
    expect(cursor()).toEqual({ block: 2, first: 2 * B + 100 });
    await expect(subject.sweep()).resolves.toBe(0);
  });

  it('judges only events the stream had forgotten at its last run already: one delivered as the stream forgot it has a run to end', async () => {
    const { subject, lettered, cursor } = sweeper({
      first: 2 * B,
      cursor: { block: 1, first: B + 50 },
      blocks: {
        1: [
          ['lost', B + 7],
          ['forgotten-since', B + 60],
        ],
      },
    });
    await expect(subject.sweep()).resolves.toBe(1);
    expect(lettered).toEqual(['lost']);
    expect(cursor()).toEqual({ block: 1, first: 2 * B });
    await expect(subject.sweep()).resolves.toBe(1);
    expect(lettered).toEqual(['lost', 'forgotten-since']);
  });

  it('at its first run (where the stream began unknown) judges nothing and learns it', async () => {
    const { subject, lettered, read, cursor } = sweeper({ first: 3 * B, blocks: { 0: [['lost', 5]] } });
    await expect(subject.sweep()).resolves.toBe(0);
    expect(read).toEqual([]);
    expect(cursor()).toEqual({ first: 3 * B });
    await expect(subject.sweep()).resolves.toBe(1);
    expect(lettered).toEqual(['lost']);
  });

  it('removes the watch of a callback delivered after all, without a dead letter', async () => {
    const { subject, lettered, forgotten } = sweeper({
      first: B,
      cursor: { block: 0, first: B },
      blocks: { 0: [['delivered', 3]] },
      delivered: ['delivered'],
    });
    await expect(subject.sweep()).resolves.toBe(0);
    expect(lettered).toEqual([]);
    expect(forgotten).toEqual(['delivered']);
  });

  it('stops where it is when the store refuses dead letters one after the other (down), and takes them up at the next run', async () => {
    const { subject, lettered, forgotten, cursor } = sweeper({
      first: 3 * B,
      cursor: { block: 0, first: 3 * B },
      blocks: {
        0: [
          ['a', 1],
          ['b', 2],
          ['c', 3],
          ['d', 4],
        ],
        1: [['next-block', B + 1]],
      },
      refusedOnce: ['a', 'b', 'c'],
    });
    await expect(subject.sweep()).resolves.toBe(0);
    expect(forgotten).toEqual([]);
    expect(cursor()).toEqual({ block: 0, first: 3 * B });
    await expect(subject.sweep()).resolves.toBe(5);
    expect(lettered).toEqual(['a', 'b', 'c', 'd', 'next-block']);
  });

  it('goes past one dead letter the store refuses alone (not in the way of every watch after it), tries it again at the next runs, and gives it up, counted lost, after an hour of them', async () => {
    const world = {
      first: 3 * B,
      cursor: { block: 0, first: 3 * B },
      blocks: {
        0: [
          ['first', 1],
          ['refused', 2],
          ['after', 3],
        ],
        1: [['next-block', B + 1]],
      } as Record<number, Array<[string, number]>>,
      refusedAlways: ['refused'],
    };
    const { subject, lettered, forgotten, movedTo, failures, cursor } = sweeper(world);
    let counted = await subject.sweep();
    expect(lettered).toEqual(['first', 'after', 'next-block']);
    // Moved to the block the stream is forgetting now, read again at every run.
    expect(movedTo[0]).toBe(3);
    expect(forgotten).not.toContain('refused');
    expect(cursor()?.block).toBe(3);
    let runs = 1;
    while (!forgotten.includes('refused') && runs < 100) {
      counted += await subject.sweep();
      runs++;
    }
    // Given up at its 60th try (an hour of runs), and counted lost (the alert fires) though no letter
    // could be written.
    expect(forgotten).toContain('refused');
    expect(failures.get('refused')).toBe(59);
    expect(counted).toBe(4);
  });

  it('goes back to the lowest block watched when the stream was made again (its numbering starts over)', async () => {
    const { subject, lettered, cursor } = sweeper({
      first: B + 1,
      cursor: { block: 900, first: 900 * B },
      blocks: { 0: [['after-remake', 3]] },
    });
    await expect(subject.sweep()).resolves.toBe(1);
    expect(lettered).toEqual(['after-remake']);
    expect(cursor()).toEqual({ block: 1, first: B + 1 });
  });

  it('never sets out past the stream when the lowest watch is ahead of it (no listing of every watch at each run)', async () => {
    const { subject, cursor } = sweeper({
      first: B + 1,
      cursor: { first: B + 1 },
      blocks: { 5: [['ahead', 5 * B]] },
    });
    await subject.sweep();
    expect(cursor()?.block).toBe(1);
  });

  it('reads a bounded number of blocks and watches a run, and goes on at the next', async () => {
    const { subject, read, cursor } = sweeper({
      first: 100 * B,
      cursor: { block: 0, first: 100 * B },
      blocks: {},
    });
    await subject.sweep();
    expect(read).toHaveLength(64);
    await subject.sweep();
    // The 37th read is block 100, the stream's current one.
    expect(read).toHaveLength(101);
    expect(cursor()?.block).toBe(100);

    const many = Array.from({ length: WATCHES_PER_RUN + 5 }, (_, i): [string, number] => [`w${i}`, i]);
    const flooded = sweeper({ first: 2 * B, cursor: { block: 0, first: 2 * B }, blocks: { 0: many } });
    await expect(flooded.subject.sweep()).resolves.toBe(WATCHES_PER_RUN);
    expect(flooded.cursor()?.block).toBe(0);
    await expect(flooded.subject.sweep()).resolves.toBe(5);
  });

  it('never passes a block whose listing was cut short, though watches it listed were gone when read', async () => {
    const many = Array.from({ length: WATCHES_PER_RUN + 5 }, (_, i): [string, number] => [`w${i}`, i]);
    const { subject, lettered, cursor } = sweeper({
      first: 2 * B,
      cursor: { block: 0, first: 2 * B },
      blocks: { 0: many, 1: [['next-block', B + 1]] },
      vanished: ['w0', 'w1'],
    });
    await expect(subject.sweep()).resolves.toBe(WATCHES_PER_RUN - 2);
    expect(cursor()?.block).toBe(0);
    await subject.sweep();
    expect(lettered).toHaveLength(WATCHES_PER_RUN + 3 + 1);
    expect(lettered.slice(-6)).toEqual([...many.slice(-5).map(([id]) => id), 'next-block']);
  });
});
