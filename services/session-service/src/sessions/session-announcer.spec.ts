import { STREAMS, SessionCreated, SessionUpdated } from '@maskline/contracts';
import type { EventPublisher } from '@maskline/messaging';
import { runWithContext } from '@maskline/observability';
import type { Logger } from 'pino';
import type { SessionServiceConfig } from '../config/session-service.config';
import { SessionAnnouncer, withinDuplicateWindow, type NumberedSession } from './session-announcer';
import type { SessionRepository } from './session.repository';
import type { UnannouncedUpdates } from './unannounced-updates.repository';
import type { SessionDocument } from './session.schema';

const CONFIG = { RPC_TIMEOUT_MS: 2000 } as SessionServiceConfig;

const SESSION = {
  _id: 'sess-1',
  accountId: 'MA000000000000000001',
  subaccountId: null,
  firstParty: '+14155550101',
  secondParty: '+14155550102',
  virtualNumber: '+14155550199',
  allocationId: 'alloc-1',
  status: 'active',
  settings: {},
  createdAt: new Date('2026-12-01T00:00:00Z'),
  modifiedAt: new Date('2026-12-01T00:00:00Z'),
  expiresAt: new Date('2026-12-01T01:00:00Z'),
} as unknown as NumberedSession;

/** A store whose one live session is `doc` (null: none), as a retry reads it. */
function storeHolding(doc: SessionDocument | null): SessionRepository {
  return { getLiveSystemWide: async () => doc } as unknown as SessionRepository;
}

/** A publisher whose stream is away: every announcement fails, counted. */
function streamAway() {
  let tries = 0;
  const events = {
    publish: async () => {
      tries++;
      throw new Error('event stream is not available');
    },
  } as unknown as EventPublisher;
  return { events, tries: () => tries };
}

/** The announcer with a publisher that records how long each announcement may wait. */
function announcer() {
  const waits: Array<number | undefined> = [];
  const events = {
    publish: async (contract: unknown, _payload: unknown, options: { timeoutMs?: number }) => {
      expect(contract).toBe(SessionUpdated);
      waits.push(options.timeoutMs);
      return { seq: 1, duplicate: false };
    },
  } as unknown as EventPublisher;
  const config = CONFIG;
  return { subject: new SessionAnnouncer(events, config, storeHolding(SESSION)), waits };
}

describe("an API update's announcement", () => {
  const at = new Date();
  const within = (leftMs: number, fn: () => Promise<void>) =>
    runWithContext({ correlationId: 'c-1', deadline: Date.now() + leftMs }, fn);

  it('waits for the stream in what its request has left, less what its answer needs, up to 5 s', async () => {
    const { subject, waits } = announcer();
    await within(9000, () => subject.updatedInRequest(SESSION, at));
    await within(6000, () => subject.updatedInRequest(SESSION, at));
    expect(waits[0]).toBe(5000);
    // 6 s left, 3 s kept for the answer (allowing for the clock moving between the two reads).
    expect(waits[1]).toBeGreaterThan(2900);
    expect(waits[1]).toBeLessThanOrEqual(3000);
  });

  it('never less than the publisher’s default, even with little time left', async () => {
    const { subject, waits } = announcer();
    await within(1000, () => subject.updatedInRequest(SESSION, at));
    expect(waits).toEqual([2000]);
  });

  it('outside a request with a deadline: within a write request’s 8 s', async () => {
    const { subject, waits } = announcer();
    await subject.updatedInRequest(SESSION, at);
    expect(waits).toEqual([5000]);
  });

  it('failed in its request, is tried again in the background, under the same change time, until the stream takes it', async () => {
    jest.useFakeTimers();
    try {
      const changedAt = new Date();
      const stored = { ...SESSION, modifiedAt: changedAt } as NumberedSession;
      const tried: string[] = [];
      let failures = 3;
      const events = {
        publish: async (_c: unknown, _p: unknown, options: { msgId: string }) => {
          tried.push(options.msgId);
          if (failures-- > 0) throw new Error('event stream is not available');
          return { seq: 1, duplicate: false };
        },
      } as unknown as EventPublisher;
      const subject = new SessionAnnouncer(events, CONFIG, storeHolding(stored));
      await expect(subject.updatedInRequest(stored, changedAt)).rejects.toThrow('not available');
      expect(tried).toHaveLength(1);
      // After up to 1 s, then up to 2 s more, then up to 4 s more: the third try again is taken.
      await jest.advanceTimersByTimeAsync(1000);
      expect(tried).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(2000);
      expect(tried).toHaveLength(3);
      await jest.advanceTimersByTimeAsync(4000);
      expect(tried).toHaveLength(4);
      expect(new Set(tried)).toEqual(new Set([`session-updated:${SESSION._id}:${changedAt.getTime()}`]));
      // Taken: not tried again.
      await jest.advanceTimersByTimeAsync(600_000);
      expect(tried).toHaveLength(4);
    } finally {
      jest.useRealTimers();
    }
  });

  it.each<[string, (changedAt: Date) => SessionDocument | null]>([
    ['ended since (deleted, or expired and moved out)', () => null],
    [
      'marked ended',
      (changedAt) => ({ ...SESSION, modifiedAt: changedAt, status: 'expired' }) as SessionDocument,
    ],
    [
      'changed again since',
      (changedAt) => ({ ...SESSION, modifiedAt: new Date(changedAt.getTime() + 5) }) as SessionDocument,
    ],
  ])('is not tried again once the session was %s', async (_case, storedAs) => {
    jest.useFakeTimers();
    try {
      const changedAt = new Date();
      const { events, tries } = streamAway();
      const subject = new SessionAnnouncer(events, CONFIG, storeHolding(storedAs(changedAt)));
      await expect(subject.updatedInRequest(SESSION, changedAt)).rejects.toThrow('not available');
      await jest.advanceTimersByTimeAsync(600_000);
      expect(tries()).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('failed in its request, is noted in the store for the sweep, which announces it should this replica stop before its retries do', async () => {
    const { events } = streamAway();
    const noted: string[] = [];
    const unannounced = {
      note: async (accountId: string, sessionId: string) => void noted.push(`${accountId}/${sessionId}`),
    } as unknown as UnannouncedUpdates;
    const subject = new SessionAnnouncer(events, CONFIG, storeHolding(SESSION), undefined, unannounced);
    await expect(subject.updatedInRequest(SESSION, SESSION.modifiedAt)).rejects.toThrow('not available');
    expect(noted).toEqual([`${SESSION.accountId}/${SESSION._id}`]);
  });

  it('is not tried again past the stream’s duplicate window, where a try would be a second announcement', async () => {
    jest.useFakeTimers();
    try {
      const changedAt = new Date();
      const { events, tries } = streamAway();
      const errors: string[] = [];
      const logger = { error: (_o: unknown, msg: string) => errors.push(msg) } as unknown as Logger;
      const stored = { ...SESSION, modifiedAt: changedAt } as NumberedSession;
      const subject = new SessionAnnouncer(events, CONFIG, storeHolding(stored), logger);
      await expect(subject.updatedInRequest(stored, changedAt)).rejects.toThrow('not available');
      await jest.advanceTimersByTimeAsync(3_600_000);
      // Every wait up to double the last, to a minute, up to a minute before the 10-minute window ends.
      expect(tries()).toBeGreaterThan(5);
      expect(tries()).toBeLessThan(40);
      expect(errors).toEqual([expect.stringContaining('no longer tried here')]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('a repeat of a session announcement', () => {
  it('is dropped by the stream for sure while its duplicate window, less a margin, holds an announcement made after a time', () => {
    const since = new Date('2026-12-01T00:00:00Z');
    const window = STREAMS[SessionCreated.stream].duplicateWindowMs;
    expect(withinDuplicateWindow(since, since.getTime() + 60_000)).toBe(true);
    expect(withinDuplicateWindow(since, since.getTime() + window - 60_001)).toBe(true);
    expect(withinDuplicateWindow(since, since.getTime() + window - 60_000)).toBe(false);
    expect(withinDuplicateWindow(since, since.getTime() + window)).toBe(false);
  });
});
