import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  DEFAULT_SESSION_SETTINGS,
  ListSessions,
  newSessionId,
  type SessionSettings,
} from '@maskline/contracts';
import { TestNatsClient, testClock, type RunningProcess } from '@maskline/testing';
import { RetentionSweeper } from '../privacy/retention-sweeper';
import { unpackAscending } from '@maskline/persistence';
import { EndedSessionRecords } from './ended-session-records';
import { EndedSessionRepository } from './ended-session.repository';
import { EndedSessionTallyDocument } from './ended-session-tally.schema';
import { ENDED_SESSION_MODEL, type SessionDocument } from './session.schema';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
let seq = 0;
const number = () => `+1415557${String(1000 + seq++).padStart(4, '0')}`;
const accountId = (tag: string) =>
  `MA${tag}${randomUUID()
    .replace(/-/g, '')
    .slice(0, 18 - tag.length)
    .toUpperCase()}`;

describe('lists count past days from their tallies (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let tallies: Model<EndedSessionTallyDocument>;
  const clock = testClock();
  const A = accountId('TALLYA');
  const B = accountId('TALLYB');
  const SUB = `SA${randomUUID().replace(/-/g, '').slice(0, 18).toUpperCase()}`;
  /** Every ended session of the fixture, as recorded. */
  const recorded: SessionDocument[] = [];
  let todayStart: number;

  /** A session recorded as the expiry records one: it began `livedMs` before it ended at `endedAt`. */
  async function ended(
    account: string,
    endedAt: number,
    more: Partial<SessionDocument> = {},
    livedMs = 2 * HOUR,
  ): Promise<SessionDocument> {
    const createdAt = new Date(endedAt - livedMs);
    const doc = {
      _id: newSessionId(createdAt.getTime()),
      accountId: account,
      subaccountId: null,
      firstParty: number(),
      secondParty: number(),
      virtualNumber: number(),
      allocationId: randomUUID(),
      status: 'expired',
      settings: { ...DEFAULT_SESSION_SETTINGS } as SessionSettings,
      createdAt,
      modifiedAt: createdAt,
      expiresAt: new Date(endedAt),
      durationSeconds: livedMs / 1000,
      expiredAt: new Date(endedAt),
      ...more,
    } as SessionDocument;
    // Recorded as its expiry recorded it: when it ended.
    await app.get(EndedSessionRepository).recordOne(doc, endedAt);
    recorded.push(doc);
    return doc;
  }

  const list = (
    account: string,
    filters: Partial<{ subaccountId: string; createdFrom: number; party: string }>,
    page: { limit: number; offset: number },
  ) =>
    client.request(ListSessions, {
      scope: { accountId: account, ...(filters.subaccountId ? { subaccountId: filters.subaccountId } : {}) },
      status: 'all',
      createdTime: filters.createdFrom ? { gte: new Date(filters.createdFrom).toISOString() } : {},
      expiryTime: {},
      durationSeconds: {},
      ...(filters.party ? { party: filters.party } : {}),
      ...page,
    });

  /** Every page of a list, `limit` at a time: its totals and the ids in order. */
  async function everyPage(account: string, filters: Parameters<typeof list>[1], limit: number) {
    const totals = new Set<number>();
    const ids: string[] = [];
    for (let offset = 0; ; offset += limit) {
      const page = await list(account, filters, { limit, offset });
      totals.add(page.total);
      ids.push(...page.objects.map((o) => o.sessionId));
      if (page.objects.length < limit) break;
    }
    return { totals: [...totals], ids };
  }

  /** The fixture's sessions a list should give, newest first. */
  const expected = (keep: (s: SessionDocument) => boolean) =>
    recorded
      .filter(keep)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? -1 : 1))
      .map((s) => s._id);

  beforeAll(async () => {
    // Noon (UTC): yesterday ended 12 hours ago (tallied), and a session ended an hour ago is today's.
    clock.advance((((12 * HOUR - (clock.now() % DAY)) % DAY) + DAY) % DAY);
    ({ nats, app } = await startSessionServiceTestApp(
      'tallies',
      {
        SESSION_RETENTION_DAYS: '30',
        // The test runs each sweep itself.
        RETENTION_SWEEP_INTERVAL_MS: '3600000',
      },
      { clock: clock.now },
    ));
    client = await TestNatsClient.connect(nats.url);
    tallies = app.get(getModelToken(EndedSessionTallyDocument.name));
    todayStart = Math.floor(clock.now() / DAY) * DAY;
    // Five past days and today: the account's own sessions and a subaccount's, another tenant's,
    // and a Proxy session (never in this list).
    for (let d = 5; d >= 1; d--) {
      const day = todayStart - d * DAY;
      await ended(A, day + 8 * HOUR);
      await ended(A, day + 10 * HOUR, {}, 30 * HOUR);
      if (d % 2 === 0) await ended(A, day + 9 * HOUR, { subaccountId: SUB });
      await ended(B, day + 9 * HOUR);
      await ended(B, day + 11 * HOUR);
    }
    await ended(A, todayStart - 3 * DAY + 12 * HOUR, {
      proxy: { serviceSid: `KS${randomUUID().replace(/-/g, '')}`, uniqueName: null },
    } as Partial<SessionDocument>);
    await ended(A, clock.now() - HOUR);
    await ended(A, clock.now() - 2 * HOUR);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  const plivoOf = (account: string) => (s: SessionDocument) => s.accountId === account && !s.proxy;

  it('gives the same pages and totals with the tallies as without, for every filter a list takes', async () => {
    const since = clock.now() - 7 * DAY;
    // Cuts through the sessions of three days ago: that day's matches come from its tally's starts.
    const cut = todayStart - 3 * DAY + 9 * HOUR;
    const party = recorded.find((s) => s.accountId === A && !s.proxy)!.firstParty!;
    const cases: Array<[string, Parameters<typeof list>[1], string[]]> = [
      ['the last 7 days', { createdFrom: since }, expected(plivoOf(A))],
      ['every day kept', {}, expected(plivoOf(A))],
      ['a subaccount', { subaccountId: SUB, createdFrom: since }, expected((s) => s.subaccountId === SUB)],
      [
        'a start cutting through a day',
        { createdFrom: cut },
        expected((s) => plivoOf(A)(s) && s.createdAt.getTime() >= cut),
      ],
      [
        'a party',
        { party },
        expected((s) => plivoOf(A)(s) && (s.firstParty === party || s.secondParty === party)),
      ],
    ];
    const without = [];
    for (const [, filters, ids] of cases) {
      const pages = await everyPage(A, filters, 3);
      expect(pages).toEqual({ totals: [ids.length], ids });
      without.push(pages);
    }
    // The other tenant's list, untouched by the first's sessions.
    expect(await everyPage(B, { createdFrom: since }, 4)).toEqual({
      totals: [10],
      ids: expected(plivoOf(B)),
    });

    // Yesterday and the four days before are tallied; today is not over.
    expect(await app.get(EndedSessionRepository).tallyPastDaysSystemWide()).toBe(5);
    expect(await app.get(EndedSessionRepository).tallyPastDaysSystemWide()).toBe(0);
    for (const [i, [name, filters]] of cases.entries()) {
      expect([name, await everyPage(A, filters, 3)]).toEqual([name, without[i]]);
    }
    expect(await everyPage(B, { createdFrom: since }, 4)).toEqual({
      totals: [10],
      ids: expected(plivoOf(B)),
    });
    expect((await list(A, { subaccountId: SUB, createdFrom: since }, { limit: 1, offset: 0 })).total).toBe(2);
  });

  /**
   * The first page of the last 7 days (the right sessions, the right total), and how many of the
   * collections' counts and key reads it made.
   */
  async function firstPageReads(createdFrom = clock.now() - 7 * DAY) {
    await app.get(EndedSessionRepository).tallyPastDaysSystemWide();
    const counted = jest.spyOn(EndedSessionRecords.prototype, 'count');
    const keyed = jest.spyOn(EndedSessionRecords.prototype, 'firstKeys');
    try {
      const page = await list(A, { createdFrom }, { limit: 2, offset: 0 });
      const listed = expected((s) => plivoOf(A)(s) && s.createdAt.getTime() >= createdFrom);
      expect(page.objects.map((o) => o.sessionId)).toEqual(listed.slice(0, 2));
      expect(page.total).toBe(listed.length);
      return { counts: counted.mock.calls.length, keyReads: keyed.mock.calls.length };
    } finally {
      counted.mockRestore();
      keyed.mockRestore();
    }
  }

  it('reads, for the first page of the last 7 days, only what no tally answers for: today and the collection kept before', async () => {
    // Today's and the collection kept before's keys and counts, in one read each.
    expect(await firstPageReads()).toEqual({ counts: 0, keyReads: 2 });
  });

  it('counts a past day that the start range cuts through from its tally (a full week of history cut the oldest day)', async () => {
    const cut = todayStart - 3 * DAY + 9 * HOUR;
    expect(recorded.some((s) => s.accountId === A && s.createdAt.getTime() < cut)).toBe(true);
    expect((await firstPageReads(cut)).counts).toBe(0);
  });

  it("reads today's collection first in a day's last hour too, when tomorrow's (made ahead) may already be written to", async () => {
    // 23:30: a clock an hour ahead is in tomorrow, whose collection was made ahead at boot.
    const toLastHour = todayStart + DAY - 30 * 60_000 - clock.now();
    clock.advance(toLastHour);
    try {
      // Today's, tomorrow's (empty) and the collection kept before's, in one read each: no past day's.
      expect(await firstPageReads()).toEqual({ counts: 0, keyReads: 3 });
    } finally {
      clock.advance(-toLastHour);
    }
  });

  it('keeps nothing but counts and start times in a tally, each account apart', async () => {
    await app.get(EndedSessionRepository).tallyPastDaysSystemWide();
    const stored = await tallies.find().lean();
    const days = stored.filter((t) => t._id === t.day);
    expect(days).toHaveLength(5);
    for (const day of days) expect(day).toMatchObject({ groups: [], tooMany: false });
    const accounts = stored.filter((t) => t._id !== t.day);
    expect(accounts.length).toBeGreaterThanOrEqual(10);
    for (const tally of accounts) {
      expect(tally.groups.length).toBeGreaterThan(0);
      for (const group of tally.groups) {
        expect(`${tally.day}:${group.accountId}`).toBe(tally._id);
        expect(Object.keys(group).sort()).toEqual(
          ['accountId', 'count', 'firstCreatedAt', 'lastCreatedAt', 'starts', 'subaccountId'].sort(),
        );
        // The starts: as many as the count, each a time (no id, no number).
        expect(unpackAscending(group.starts!)).toHaveLength(group.count);
      }
    }
  });

  it('is made again once deleted (history written into a past day), and trusted by no list meanwhile', async () => {
    await app.get(EndedSessionRepository).tallyPastDaysSystemWide();
    const late = await ended(A, todayStart - 2 * DAY + 15 * HOUR);
    const since = clock.now() - 7 * DAY;
    await tallies.deleteMany({});
    const all = expected(plivoOf(A));
    expect(all).toContain(late._id);
    expect(await everyPage(A, { createdFrom: since }, 20)).toEqual({ totals: [all.length], ids: all });
    expect(await app.get(EndedSessionRepository).tallyPastDaysSystemWide()).toBe(5);
    expect(await everyPage(A, { createdFrom: since }, 20)).toEqual({ totals: [all.length], ids: all });
  });

  it('records a session whose expiry finishes more than an hour after its day in the collection kept before: listed and counted', async () => {
    await app.get(EndedSessionRepository).tallyPastDaysSystemWide();
    // An expiry that stalled: the session ended yesterday, its record is written now.
    const endedAt = todayStart - DAY + 20 * HOUR;
    const createdAt = new Date(endedAt - HOUR);
    const late = {
      ...recorded.find((s) => s.accountId === A && !s.proxy)!,
      _id: newSessionId(createdAt.getTime()),
      createdAt,
      modifiedAt: createdAt,
      expiresAt: new Date(endedAt),
      expiredAt: new Date(endedAt),
    };
    await app.get(EndedSessionRepository).recordOne(late);
    recorded.push(late);
    const before = app.get(getModelToken(ENDED_SESSION_MODEL)) as Model<SessionDocument>;
    expect(await before.findById(late._id).lean()).not.toBeNull();
    const since = clock.now() - 7 * DAY;
    const all = expected(plivoOf(A));
    expect(all).toContain(late._id);
    expect(await everyPage(A, { createdFrom: since }, 20)).toEqual({ totals: [all.length], ids: all });
  });

  // Last: it moves the clock on.
  it('counts again a tallied day once the retention sweep deletes from it, and forgets its tally', async () => {
    const day = todayStart - 27 * DAY;
    const goes = await ended(A, day + 10 * HOUR);
    const stays = await ended(A, day + 14 * HOUR);
    // The sweep tallies the day (its end is more than an hour ago, and retention deletes nothing from it yet).
    await app.get(RetentionSweeper).runNow();
    const dayName = `ended_sessions_${new Date(day).toISOString().slice(0, 10).replace(/-/g, '')}`;
    expect(await tallies.findById(dayName).lean()).not.toBeNull();
    const everything = () => everyPage(A, { createdFrom: day - 2 * DAY }, 20);
    expect(await everything()).toEqual({ totals: [expected(plivoOf(A)).length], ids: expected(plivoOf(A)) });

    // Three days on, the retention cutoff (30 days) falls at noon of that day: 10:00 goes, 14:00 stays.
    clock.advance(3 * DAY);
    await app.get(RetentionSweeper).runNow();
    const kept = (s: SessionDocument) => plivoOf(A)(s) && s._id !== goes._id;
    expect(await everything()).toEqual({ totals: [expected(kept).length], ids: expected(kept) });
    expect(expected(kept)).toContain(stays._id);
    expect(await tallies.findById(dayName).lean()).toBeNull();
  });
});
