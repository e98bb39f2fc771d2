import mongoose, { type Connection } from 'mongoose';
import pino from 'pino';
import { CLOCK_SKEW_MS, newSessionId } from '@maskline/contracts';
import { runWithContext } from '@maskline/observability';
import { testClock, testStoreUrl, uniqueDbName } from '@maskline/testing';
import { CallEventRepository, RECORDED_AFTER_END_MS } from './call-event.repository';
import { CallEventDocument, CallEventSchema } from './call-event.schema';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACCOUNT = 'MACALLSTEPSDAYS00001';
/** A read's most steps of one session, small here (10,000 in service). */
const SESSION_STEPS_READ_MAX = 50;

describe('call steps of a session read from its own days (real store)', () => {
  let connection: Connection;
  let repository: CallEventRepository;
  /** The collections the store was asked to find in, in order. */
  const finds: string[] = [];
  const clock = testClock();

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testStoreUrl(), { dbName: uniqueDbName('call_steps_days'), monitorCommands: true })
      .asPromise();
    connection.getClient().on('commandStarted', (e) => {
      if (e.commandName === 'find') finds.push(String(e.command.find));
    });
    repository = new CallEventRepository(
      connection,
      connection.model(CallEventDocument.name, CallEventSchema),
      clock.now,
      pino({ level: 'silent' }),
      { SESSION_STEPS_READ_MAX },
    );
  });

  afterAll(async () => {
    await connection?.dropDatabase();
    await connection?.close();
  });

  const step = (sessionId: string, at: number, callId: string): CallEventDocument => ({
    _id: `${callId}:answered`,
    accountId: ACCOUNT,
    sessionId,
    callId,
    step: 'answered',
    at: new Date(at),
    firstPartyCallUuid: null,
    secondPartyCallUuid: null,
    status: 'answered',
    durationSeconds: 0,
    billedDurationSeconds: 0,
    recordingUrl: null,
  });
  const dayOf = (at: number) => `call_events_${new Date(at).toISOString().slice(0, 10).replace(/-/g, '')}`;

  it('reads an ended session from the days it lived and the grace after, not every day since', async () => {
    const now = clock.now();
    // Ended ten days ago after an hour; a message's outcome recorded 20 h after its end (within the grace).
    const createdAt = now - 10 * DAY - HOUR;
    const endedAt = now - 10 * DAY;
    const ended = newSessionId(createdAt);
    const live = newSessionId(now - 5 * DAY);
    const steps = [
      step(ended, createdAt + 60_000, 'call-1'),
      step(ended, endedAt + 20 * HOUR, 'message-1'),
      // Steps of another session on the days since: their collections exist.
      ...[7, 5, 3, 1, 0].map((daysAgo) => step(live, now - daysAgo * DAY, `other-${daysAgo}`)),
    ];
    for (const s of steps) await repository.record(s);

    finds.length = 0;
    const charged: Array<string | undefined> = [];
    /** A read made for a tenant's request, whose admissions are heard (as the RPC server sets them). */
    const forTenant = <T>(read: () => Promise<T>) =>
      runWithContext(
        {
          correlationId: 't',
          admitHistoryRead: async (kind) => {
            charged.push(kind);
          },
        },
        read,
      );
    const read = await forTenant(() =>
      repository.forSession(ACCOUNT, {
        _id: ended,
        createdAt: new Date(createdAt),
        status: 'expired',
        expiredAt: new Date(endedAt),
        modifiedAt: new Date(endedAt),
      }),
    );
    expect(read.map((e) => e.callId)).toEqual(['call-1', 'message-1']);
    // Its own days (and the collection kept before days): those that exist from its start (less the
    // clock skew) to RECORDED_AFTER_END_MS after its end, which the time of day decides; none after.
    const [first, last] = [dayOf(createdAt - CLOCK_SKEW_MS), dayOf(endedAt + RECORDED_AFTER_END_MS)];
    const ownDays = [...new Set(steps.map((s) => dayOf(s.at.getTime())))].filter(
      (d) => d >= first && d <= last,
    );
    expect(ownDays).toEqual(expect.arrayContaining([dayOf(createdAt), dayOf(endedAt + 20 * HOUR)]));
    expect(new Set(finds)).toEqual(new Set(['call_events', ...ownDays]));
    for (const daysAgo of [5, 3, 1, 0]) expect(finds).not.toContain(dayOf(now - daysAgo * DAY));
    // A lookup's few days: each read admitted as the request was, none charged as a scan.
    expect(charged.length).toBeGreaterThan(0);
    expect(charged.filter((kind) => kind === 'scan')).toStrictEqual([]);
    charged.length = 0;

    // A live session (or a page with one) reads on through today.
    finds.length = 0;
    const liveRead = await forTenant(() =>
      repository.forSession(ACCOUNT, { _id: live, createdAt: new Date(now - 11 * DAY), status: 'active' }),
    );
    expect(liveRead.map((e) => e.callId)).toEqual(['other-7', 'other-5', 'other-3', 'other-1', 'other-0']);
    expect(finds).toEqual(expect.arrayContaining([dayOf(createdAt), dayOf(now - 7 * DAY), dayOf(now)]));
    // Live for eleven days, its read spans more days than a lookup's: admitted as a scan as well.
    expect(charged.filter((kind) => kind === 'scan')).toStrictEqual(['scan']);
  });

  it('reads a session’s newest SESSION_STEPS_READ_MAX steps, in time order, and a page’s other sessions whole beside it', async () => {
    const now = clock.now();
    const heavy = newSessionId(now - HOUR);
    const light = newSessionId(now - HOUR);
    // More steps than a read of two sessions holds (a session without a TTL sent texts at its whole rate limit).
    const many = Array.from({ length: 2 * SESSION_STEPS_READ_MAX + 5 }, (_, i) =>
      step(heavy, now - 60_000 + i, `many-${String(i).padStart(5, '0')}`),
    );
    const few = [0, 1, 2].map((i) => step(light, now - 120_000 + i, `few-${i}`));
    // The first and last through the repository (their days' collections made as in service), the rest at once.
    for (const s of [many[0], many[many.length - 1], ...few]) await repository.record(s);
    const byDay = new Map<string, CallEventDocument[]>();
    for (const s of many.slice(1, -1))
      byDay.set(dayOf(s.at.getTime()), [...(byDay.get(dayOf(s.at.getTime())) ?? []), s]);
    for (const [day, docs] of byDay) await connection.collection<CallEventDocument>(day).insertMany(docs);

    const started = { createdAt: new Date(now - HOUR), status: 'active' as const };
    const one = await repository.forSession(ACCOUNT, { _id: heavy, ...started });
    expect(one).toHaveLength(SESSION_STEPS_READ_MAX);
    expect(one.map((e) => e.callId)).toEqual(many.slice(-SESSION_STEPS_READ_MAX).map((e) => e.callId));
    // A page of both: the light one's steps are all there, whatever the heavy one's count.
    const page = await repository.forSessions(ACCOUNT, [
      { _id: heavy, ...started },
      { _id: light, ...started },
    ]);
    expect(page.get(light)?.map((e) => e.callId)).toEqual(['few-0', 'few-1', 'few-2']);
    expect(page.get(heavy)?.map((e) => e.callId)).toEqual(one.map((e) => e.callId));
    // A page that fits one read: each session still its newest SESSION_STEPS_READ_MAX, as a get shows it.
    const medium = newSessionId(now - HOUR);
    const more = Array.from({ length: SESSION_STEPS_READ_MAX + 10 }, (_, i) =>
      step(medium, now - 30_000 + i, `more-${String(i).padStart(5, '0')}`),
    );
    await Promise.all(more.map((s) => repository.record(s)));
    const fits = await repository.forSessions(ACCOUNT, [
      { _id: medium, ...started },
      { _id: light, ...started },
    ]);
    expect(fits.get(medium)?.map((e) => e.callId)).toEqual(
      more.slice(-SESSION_STEPS_READ_MAX).map((e) => e.callId),
    );
    expect(fits.get(light)).toHaveLength(3);
  });
});
