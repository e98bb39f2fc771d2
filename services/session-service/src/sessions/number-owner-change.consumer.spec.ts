import pino from 'pino';
import { CodedError, VirtualNumberChanged, type RpcContract } from '@maskline/contracts';
import { RetryLater, type RpcClient } from '@maskline/messaging';
import type { SessionServiceConfig } from '../config/session-service.config';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { NumberOwnerChangeConsumer } from './number-owner-change.consumer';
import type { SessionDocument } from './session.schema';
import type { SessionRepository } from './session.repository';

const NUMBER = '+14155550777';
const [SQUATTER, HOLDER] = ['MA00000000000000000S', 'MA00000000000000000H'];
const CONFIG = { ORPHAN_AGE_MS: 30_000, REAPER_INTERVAL_MS: 5_000 } as SessionServiceConfig;
/** When every creation under way at a takeover has settled: ORPHAN_AGE_MS and a reaper pass. */
const SECOND_LOOK_MS = 35_000;
const TAKEN_AT = Date.parse('2026-12-04T12:00:00Z');

type Owner = { accountId: string; subaccountId: string | null };

function consumer(
  /** The number's owner, as number-pool says: an account (its main account's), or an account and subaccount. */
  owner: string | Owner | null,
  live: Array<Pick<SessionDocument, '_id' | 'accountId' | 'subaccountId'>>,
  /** Sessions whose end cannot be stored now. */
  options: { failFor?: string[] } = {},
) {
  const ended: string[] = [];
  const asked: string[] = [];
  /** Every session a read of the store returned. */
  const read: string[] = [];
  const ownerNow: Owner | null = typeof owner === 'string' ? { accountId: owner, subaccountId: null } : owner;
  // As the store: live sessions on the number outside the owner's scope, in id order, a page at a time.
  const sessions = {
    activeOnNumberSystemWide: async (_number: string, page: { limit: number }) => {
      const some = live.slice(0, page.limit);
      read.push(...some.map((x) => x._id));
      return some;
    },
    liveOnNumberOutside: async (
      _number: string,
      o: Owner,
      spared: string[],
      after: string | null,
      limit: number,
    ) => {
      const own = (x: (typeof live)[number]) =>
        x.accountId === o.accountId && (x.subaccountId ?? null) === o.subaccountId;
      const page = live
        .filter((x) => !own(x) && !spared.includes(x.accountId) && (after === null || x._id > after))
        .sort((x, y) => (x._id < y._id ? -1 : 1))
        .slice(0, limit);
      read.push(...page.map((x) => x._id));
      return page;
    },
  } as unknown as SessionRepository;
  // As ExpiryScheduler.endNow: with `durably`, a write of the expiry that fails throws.
  const expiry = {
    endNow: async (_scope: unknown, sessionId: string, _reason: unknown, o: { durably?: boolean } = {}) => {
      if (options.failFor?.includes(sessionId) && o.durably) throw new Error('Timed out during socket read');
      ended.push(sessionId);
    },
  } as unknown as ExpiryScheduler;
  const rpc = {
    request: async (contract: RpcContract) => {
      asked.push(contract.subject);
      if (ownerNow === null) throw CodedError.notFound('no such number');
      return ownerNow;
    },
  } as unknown as RpcClient;
  const clock = { now: TAKEN_AT };
  const c = new NumberOwnerChangeConsumer(
    sessions,
    expiry,
    rpc,
    CONFIG,
    () => clock.now,
    pino({ enabled: false }),
  );
  /** The event's `deliveryCount`-th delivery (stored on the stream at TAKEN_AT, by the server's clock). */
  const deliver = (
    accountId: string,
    takenFrom?: string,
    deliveryCount = 1,
    change: { movedWithin?: true } = {},
  ) =>
    c.onNumberChanged(
      {
        subject: VirtualNumberChanged.subject,
        payload: {
          accountId,
          number: NUMBER,
          at: new Date(TAKEN_AT).toISOString(),
          ...(takenFrom ? { takenFrom } : {}),
          ...change,
        },
      },
      {
        subject: VirtualNumberChanged.subject,
        streamSequence: 1,
        deliveryCount,
        publishedAt: new Date(TAKEN_AT),
        storedAtMicros: new Date(TAKEN_AT).getTime() * 1000,
      },
    );
  return { deliver, ended, asked, clock, read };
}

const squatters = { _id: 'S-1', accountId: SQUATTER, subaccountId: null };
const holders = { _id: 'H-1', accountId: HOLDER, subaccountId: null };

describe('NumberOwnerChangeConsumer', () => {
  it('ends every session of the account it was taken from, page after page, and reads none of the owner’s', async () => {
    const id = (prefix: string, i: number) => `${prefix}-${String(i).padStart(5, '0')}`;
    const squatter = Array.from({ length: 1_201 }, (_, i) => ({
      _id: id('S', i),
      accountId: SQUATTER,
      subaccountId: null,
    }));
    const holder = Array.from({ length: 2_000 }, (_, i) => ({
      _id: id('H', i),
      accountId: HOLDER,
      subaccountId: null,
    }));
    // The squatter's own update, after the takeover: the owner's sessions are the ones it must not end.
    const { deliver, ended, read } = consumer(HOLDER, [...holder, ...squatter]);
    await expect(deliver(SQUATTER, undefined)).resolves.toBeUndefined();
    expect(ended).toEqual([]);
    // Only whether the number has one: a single session of the owner's, not its 2,000.
    expect(read).toHaveLength(1);
    // The holder's event: every one of the squatter's sessions, across pages.
    const second = consumer(HOLDER, [...holder, ...squatter]);
    await expect(second.deliver(HOLDER, SQUATTER)).rejects.toBeInstanceOf(RetryLater);
    expect(new Set(second.ended)).toEqual(new Set(squatter.map((x) => x._id)));
    expect(second.ended).toHaveLength(1_201);
    // Of the owner's, only the one that said the number has a session at all.
    expect(second.read.filter((x) => x.startsWith('H')).length).toBeLessThanOrEqual(1);
  });

  it('ends the sessions of an account that no longer owns the number, and none of the owner’s', async () => {
    const { deliver, ended } = consumer(HOLDER, [squatters, holders]);
    // Ended, then looked at again later (below): not acknowledged yet.
    await expect(deliver(HOLDER)).rejects.toBeInstanceOf(RetryLater);
    expect(ended).toEqual(['S-1']);
  });

  it('ends nothing of the owner’s when an event naming the old owner is handled after the takeover (out of order, or replayed)', async () => {
    const { deliver, ended, asked } = consumer(HOLDER, [squatters, holders]);
    await deliver(SQUATTER);
    // The holder's session is another account's than the event names: number-pool is asked, says the
    // holder, and nothing ends (the squatter's is ended by the takeover's own event).
    expect(asked).toHaveLength(1);
    expect(ended).toEqual([]);
  });

  it('asks nobody when the number has no live session; ends none of the owner’s own when it has', async () => {
    const none = consumer(HOLDER, []);
    await none.deliver(HOLDER);
    expect([none.ended, none.asked]).toEqual([[], []]);
    const { deliver, ended, asked } = consumer(HOLDER, [holders]);
    await expect(deliver(HOLDER)).resolves.toBeUndefined();
    expect(ended).toEqual([]);
    expect(asked).toHaveLength(1);
  });

  it('ends the sessions of the owner’s other subaccounts when a number moves between them (and its main account’s when it moves to one), none of the new holder’s, and looks again', async () => {
    const sub = (id: string, subaccountId: string | null) => ({ _id: id, accountId: HOLDER, subaccountId });
    const live = [sub('A-1', 'SA-A'), sub('A-2', 'SA-A'), sub('B-1', 'SA-B'), sub('M-1', null)];
    // Moved to subaccount B: A's and the main account's sessions end; B's live on.
    const toB = consumer({ accountId: HOLDER, subaccountId: 'SA-B' }, live);
    await expect(toB.deliver(HOLDER)).rejects.toMatchObject({ delayMs: SECOND_LOOK_MS });
    expect(toB.ended).toEqual(['A-1', 'A-2', 'M-1']);
    expect(toB.read).not.toContain('B-1');
    // Moved back to the main account: every subaccount's sessions end, the main account's live on.
    const toMain = consumer(HOLDER, live);
    await expect(toMain.deliver(HOLDER)).rejects.toBeInstanceOf(RetryLater);
    expect(toMain.ended).toEqual(['A-1', 'A-2', 'B-1']);
  });

  it('looks at a move between subaccounts again though it found nothing to end, and ends a session of the old holder stored after the first look', async () => {
    const live: Array<Pick<SessionDocument, '_id' | 'accountId' | 'subaccountId'>> = [];
    const { deliver, ended, clock } = consumer({ accountId: HOLDER, subaccountId: 'SA-B' }, live);
    await expect(deliver(HOLDER, undefined, 1, { movedWithin: true })).rejects.toMatchObject({
      delayMs: SECOND_LOOK_MS,
    });
    // A creation of subaccount A's, its number taken before the move, stores its session now.
    live.push({ _id: 'A-1', accountId: HOLDER, subaccountId: 'SA-A' });
    clock.now = TAKEN_AT + SECOND_LOOK_MS;
    await expect(deliver(HOLDER, undefined, 2, { movedWithin: true })).resolves.toBeUndefined();
    expect(ended).toEqual(['A-1']);
  });

  it('ends nothing when no inventory holds the number any more', async () => {
    const { deliver, ended } = consumer(null, [squatters, holders]);
    await deliver(HOLDER);
    expect(ended).toEqual([]);
  });

  it('is retried, not acknowledged, when an end could not be stored; the other ends are not put off by it', async () => {
    const more = { _id: 'S-2', accountId: SQUATTER, subaccountId: null };
    const { deliver, ended } = consumer(HOLDER, [squatters, more, holders], { failFor: ['S-1'] });
    await expect(deliver(HOLDER)).rejects.toThrow('Timed out during socket read');
    expect(ended).toEqual(['S-2']);
  });

  it('looks at a takeover again once the creations under way have settled, and ends a session of the old owner stored after the first look', async () => {
    const live: Array<Pick<SessionDocument, '_id' | 'accountId' | 'subaccountId'>> = [holders];
    const { deliver, ended, clock } = consumer(HOLDER, live);
    // First look: nothing of the squatter's yet (its creation allocated the pair before the takeover
    // and has not stored its session): not acknowledged, looked at again a whole window later.
    const first = await deliver(HOLDER, SQUATTER).catch((err: unknown) => err);
    expect(first).toBeInstanceOf(RetryLater);
    expect((first as RetryLater).delayMs).toBe(SECOND_LOOK_MS);
    // Its session lands; the look a window later ends it, and the event is done.
    live.push(squatters);
    clock.now = TAKEN_AT + SECOND_LOOK_MS;
    await expect(deliver(HOLDER, SQUATTER, 2)).resolves.toBeUndefined();
    expect(ended).toEqual(['S-1']);
  });

  it('looks again after a failed first look only for the rest of the window, and never waits past a second delivery whatever the clocks say', async () => {
    const { deliver, clock } = consumer(HOLDER, [holders]);
    // The first look failed and was retried 10 s on: the rest of the window, by the stream's time.
    clock.now = TAKEN_AT + 10_000;
    await expect(deliver(HOLDER, SQUATTER, 2)).rejects.toMatchObject({ delayMs: SECOND_LOOK_MS - 10_000 });
    // This clock an hour behind the stream's: one window at most, not an hour.
    clock.now = TAKEN_AT - 3_600_000;
    await expect(deliver(HOLDER, SQUATTER, 2)).rejects.toMatchObject({ delayMs: SECOND_LOOK_MS });
    // And no third wait: acknowledged (never retried until the consumer gives it up).
    await expect(deliver(HOLDER, SQUATTER, 3)).resolves.toBeUndefined();
  });

  it('takes no second look at an owner’s own change, but does at one that found another account’s sessions (a takeover whose own announcement was lost)', async () => {
    await expect(consumer(HOLDER, [holders]).deliver(HOLDER)).resolves.toBeUndefined();
    const { deliver, ended } = consumer(HOLDER, [squatters, holders]);
    await expect(deliver(HOLDER)).rejects.toMatchObject({ delayMs: SECOND_LOOK_MS });
    expect(ended).toEqual(['S-1']);
  });
});
