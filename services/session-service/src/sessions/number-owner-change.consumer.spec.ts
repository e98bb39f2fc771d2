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

function consumer(
  owner: string | null,
  live: Array<Pick<SessionDocument, '_id' | 'accountId' | 'subaccountId'>>,
  /** Sessions whose end cannot be stored now. */
  options: { failFor?: string[] } = {},
) {
  const ended: string[] = [];
  const asked: string[] = [];
  /** Every session a read of the store returned. */
  const read: string[] = [];
  // As the store: live sessions on the number of the other accounts, in id order, a page at a time.
  const sessions = {
    liveOnNumberExcept: async (_number: string, except: string[], after: string | null, limit: number) => {
      const page = live
        .filter((x) => !except.includes(x.accountId) && (after === null || x._id > after))
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
      if (owner === null) throw CodedError.notFound('no such number');
      return { accountId: owner };
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
  const deliver = (accountId: string, takenFrom?: string, deliveryCount = 1) =>
    c.onNumberChanged(
      {
        subject: VirtualNumberChanged.subject,
        payload: {
          accountId,
          number: NUMBER,
          at: new Date(TAKEN_AT).toISOString(),
          ...(takenFrom ? { takenFrom } : {}),
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
    // Only whether another account has one there: a single session of the owner's, not its 2,000.
    expect(read).toHaveLength(1);
    // The holder's event: every one of the squatter's sessions, across pages.
    const second = consumer(HOLDER, [...holder, ...squatter]);
    await expect(second.deliver(HOLDER, SQUATTER)).rejects.toBeInstanceOf(RetryLater);
    expect(new Set(second.ended)).toEqual(new Set(squatter.map((x) => x._id)));
    expect(second.ended).toHaveLength(1_201);
    expect(second.read.some((x) => x.startsWith('H'))).toBe(false);
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

  it('asks nobody when only the event’s account has sessions on the number (an owner’s own change)', async () => {
    const { deliver, ended, asked } = consumer(HOLDER, [holders]);
    await deliver(HOLDER);
    expect([ended, asked]).toEqual([[], []]);
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
