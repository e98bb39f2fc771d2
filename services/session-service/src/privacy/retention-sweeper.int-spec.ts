import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  DEFAULT_SESSION_SETTINGS,
  ErrorCodes,
  GetCallbackTarget,
  GetRoutingSession,
  GetSession,
  ListSessions,
  newSessionId,
  redactPartyNumber,
  redactedPartySchema,
  redactionKeyId,
  type SessionSettings,
} from '@maskline/contracts';
import { AccountPrivacy } from '@maskline/messaging';
import { SWEEP_BATCH } from '@maskline/service-kit';
import {
  TestNatsClient,
  startServiceApp,
  testClock,
  testKey,
  testServiceConfig,
  testStoreUrl,
  type RunningProcess,
} from '@maskline/testing';
import { sessionServiceConfigSchema } from '../config/session-service.config';
import { CallEventRepository } from '../interactions/call-event.repository';
import { IN_QUERY_MAX } from '../interactions/call-event-records';
import { CallEventDocument } from '../interactions/call-event.schema';
import { ProxyParticipantDocument } from '../proxy-sessions/proxy-participant.schema';
import { EndedSessionRepository } from '../sessions/ended-session.repository';
import { EndedSessionPartiesDocument } from '../sessions/ended-session-parties.schema';
import { EndedSessionTallyDocument } from '../sessions/ended-session-tally.schema';
import { ENDED_SESSION_MODEL, SessionDocument } from '../sessions/session.schema';
import { SessionServiceModule } from '../session-service.module';
import {
  CALL_STEPS_EVERY_MS,
  CALL_STEPS_GRACE_MS,
  LEGACY_CHECK_EVERY_MS,
  RetentionSweeper,
} from './retention-sweeper';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const REDACTING = 'MARETAINREDACT000001';
const KEEPER = 'MARETAINKEEPER000001';
let seq = 0;
const number = () => `+1415556${String(1000 + seq++).padStart(4, '0')}`;

describe('retention and redaction of ended sessions (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let sessions: Model<SessionDocument>;
  let ended: Model<SessionDocument>;
  let parties: Model<EndedSessionPartiesDocument>;
  let tallies: Model<EndedSessionTallyDocument>;
  let key: Buffer;
  const clock = testClock();

  beforeAll(async () => {
    const started = await startSessionServiceTestApp(
      'retention',
      {
        PARTY_REDACTION_AFTER_HOURS: '24',
        SESSION_RETENTION_DAYS: '30',
        // The test runs each sweep itself.
        RETENTION_SWEEP_INTERVAL_MS: '3600000',
      },
      { clock: clock.now },
    );
    ({ nats, app } = started);
    key = started.config.PARTY_REDACTION_KEY;
    client = await TestNatsClient.connect(nats.url);
    sessions = app.get(getModelToken(SessionDocument.name));
    ended = app.get(getModelToken(ENDED_SESSION_MODEL));
    parties = app.get(getModelToken(EndedSessionPartiesDocument.name));
    tallies = app.get(getModelToken(EndedSessionTallyDocument.name));
    await app.get(AccountPrivacy).setKeepNumbers(KEEPER, true);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  /**
   * A session stored as the system stores one, that lived `livedMs` and ended `endedAgoMs` before the
   * test clock's now (in the history, recorded as the expiry records it), or live (null). As earlier versions stored
   * one: in the history with its numbers in clear,
   * `'without digests'` alone, `'with digests'` beside their digests under the current key.
   */
  async function endedSession(
    accountId: string,
    endedAgoMs: number | null,
    as?: 'without digests' | 'with digests',
    livedMs = HOUR,
  ) {
    const now = clock.now();
    const createdAt = new Date(now - (endedAgoMs ?? 0) - livedMs);
    const doc = {
      // As the system makes one: its id says when it began (reads of its records start there).
      _id: newSessionId(createdAt.getTime()),
      accountId,
      subaccountId: null,
      firstParty: number(),
      secondParty: number(),
      virtualNumber: number(),
      allocationId: randomUUID(),
      status: endedAgoMs === null ? 'active' : 'expired',
      settings: { ...DEFAULT_SESSION_SETTINGS } as SessionSettings,
      createdAt,
      modifiedAt: createdAt,
      expiresAt: endedAgoMs === null ? new Date(now + HOUR) : new Date(now - endedAgoMs),
      durationSeconds: 3600,
      expiredAt: endedAgoMs === null ? null : new Date(now - endedAgoMs),
    };
    if (endedAgoMs === null) await sessions.create(doc);
    else if (as === 'without digests') await ended.create(doc);
    else if (as === 'with digests') {
      await ended.create({
        ...doc,
        firstPartyDigest: redactPartyNumber(key, accountId, doc.firstParty),
        secondPartyDigest: redactPartyNumber(key, accountId, doc.secondParty),
        digestKeyId: redactionKeyId(key),
      });
    } else {
      // Recorded as its expiry recorded it: when it ended.
      await app.get(EndedSessionRepository).recordOne(doc as SessionDocument, doc.expiredAt!.getTime());
      // History written after the fact, which the system never does: a tally an earlier sweep made
      // of its day would not count it, so the tallies go (as after an operator's import).
      await tallies.deleteMany({});
    }
    await recordStep({
      _id: `${randomUUID()}:answered`,
      accountId,
      sessionId: doc._id,
      callId: randomUUID(),
      step: 'answered',
      at: createdAt,
    });
    return doc;
  }

  /**
   * The history's collections: one per day of the end (`ended_sessions_<yyyymmdd>`) and the one kept
   * before days (`ended_sessions`, where `ended` writes an earlier version's records).
   */
  async function historyCollections(base = 'ended_sessions') {
    const db = sessions.db.db!;
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    return names.filter((n) => new RegExp(`^${base}(_\\d{8})?$`).test(n)).map((n) => db.collection(n));
  }
  /** How many call steps match, in every collection the steps are kept in (one per day, and the one kept before). */
  async function countSteps(filter: Record<string, unknown>) {
    let n = 0;
    for (const c of await historyCollections('call_events')) n += await c.countDocuments(filter);
    return n;
  }
  const stepExists = async (id: string) => (await countSteps({ _id: id })) > 0;
  /** A call step recorded as the system records one (in its day's collection). */
  const recordStep = (
    step: Pick<CallEventDocument, '_id' | 'accountId' | 'sessionId' | 'callId' | 'step' | 'at'>,
  ) => app.get(CallEventRepository).record(step as CallEventDocument);
  /** A session's record as stored, wherever the history keeps it. */
  async function stored(sessionId: string) {
    for (const c of await historyCollections()) {
      const doc = await c.findOne({ _id: sessionId as never });
      if (doc) return doc as unknown as SessionDocument;
    }
    return null;
  }
  /** Changes a session's stored record, wherever the history keeps it. */
  async function updateStored(sessionId: string, set: Partial<SessionDocument>) {
    for (const c of await historyCollections()) await c.updateOne({ _id: sessionId as never }, { $set: set });
  }
  /** How many of these sessions the history holds. */
  async function countStored(sessionIds: string[]) {
    let n = 0;
    for (const c of await historyCollections())
      n += await c.countDocuments({ _id: { $in: sessionIds as never[] } });
    return n;
  }

  /** An account's sessions, live and ended, started in the last `days` days. */
  const listOf = (accountId: string, days: number, page: { limit: number; offset: number }) =>
    client.request(ListSessions, {
      scope: { accountId },
      status: 'all',
      createdTime: { gte: new Date(clock.now() - days * DAY).toISOString() },
      expiryTime: {},
      durationSeconds: {},
      ...page,
    });
  const get = (accountId: string, sessionId: string) =>
    client.request(GetSession, { scope: { accountId }, sessionId });

  it('drops a collection an earlier version wrote and this one never uses (expiry claims, now in NATS KV)', async () => {
    const db = sessions.db.db!;
    await db
      .collection('expiry_claims')
      .insertOne({ _id: 'S-old:1', sessionId: 'S-old', claimedAt: new Date() } as never);
    const listed = async () => (await db.listCollections({ name: 'expiry_claims' }).toArray()).length;
    expect(await listed()).toBe(1);
    await app.get(RetentionSweeper).runNow();
    expect(await listed()).toBe(0);
    // Gone, the next run finds nothing to drop.
    await app.get(RetentionSweeper).runNow();
    expect(await listed()).toBe(0);
  });

  it('replaces an ended session’s party numbers by their digest after the redaction period, and only then', async () => {
    const recent = await endedSession(REDACTING, 23 * HOUR);
    const old = await endedSession(REDACTING, 25 * HOUR);
    const live = await endedSession(REDACTING, null);
    // The history's record never holds the numbers: they are kept apart until redaction deletes them.
    for (const s of [recent, old]) {
      const record = JSON.stringify(await stored(s._id));
      expect(record).not.toContain(s.firstParty);
      expect(record).not.toContain(s.secondParty);
      expect((await parties.findById(s._id).lean())?.firstParty).toBe(s.firstParty);
    }

    await app.get(RetentionSweeper).runNow();

    const redacted = await get(REDACTING, old._id);
    expect(redacted.firstParty).toBe(redactPartyNumber(key, old.accountId, old.firstParty));
    expect(redacted.secondParty).toBe(redactPartyNumber(key, old.accountId, old.secondParty));
    expect(redactedPartySchema.safeParse(redacted.firstParty).success).toBe(true);
    const record = await stored(old._id);
    expect(record?.redactedAt).toBeTruthy();
    expect(JSON.stringify(record)).not.toContain(old.firstParty);
    expect(JSON.stringify(record)).not.toContain(old.secondParty);
    // The digests took the numbers' place: none is left beside them.
    expect(record).not.toHaveProperty('firstPartyDigest');
    expect(record).not.toHaveProperty('secondPartyDigest');
    expect(record).not.toHaveProperty('digestKeyId');
    // Its calls are still there: the record stays, the numbers go.
    expect(redacted.interactions).toHaveLength(1);
    expect(await parties.findById(old._id).lean()).toBeNull();
    expect(await parties.findById(recent._id).lean()).not.toBeNull();

    expect((await get(REDACTING, recent._id)).firstParty).toBe(recent.firstParty);
    // …and what the dispatcher and the routers ask of one not yet redacted answers with its numbers.
    const recentTarget = await client.request(GetCallbackTarget, {
      accountId: REDACTING,
      sessionId: recent._id,
    });
    expect([recentTarget.firstParty, recentTarget.secondParty]).toEqual([
      recent.firstParty,
      recent.secondParty,
    ]);
    const recentRouting = await client.request(GetRoutingSession, { sessionId: recent._id });
    expect(recentRouting.session?.secondParty).toBe(recent.secondParty);
    expect((await get(REDACTING, live._id)).firstParty).toBe(live.firstParty);

    // What the dispatcher and the routers ask of an ended session (a late callback, a replay)
    // still answers, with the digests.
    const target = await client.request(GetCallbackTarget, { accountId: REDACTING, sessionId: old._id });
    expect(target.firstParty).toBe(redactPartyNumber(key, old.accountId, old.firstParty));
    const routing = await client.request(GetRoutingSession, { sessionId: old._id });
    expect(routing.session?.secondParty).toBe(redactPartyNumber(key, old.accountId, old.secondParty));

    // A second sweep finds nothing left to do, and digests are never digested again.
    await app.get(RetentionSweeper).runNow();
    expect((await get(REDACTING, old._id)).firstParty).toBe(
      redactPartyNumber(key, old.accountId, old.firstParty),
    );
  });

  it('redacts, batch by batch, records an earlier version wrote without digests, alongside new ones', async () => {
    const earlier = await Promise.all(
      Array.from({ length: 230 }, () => endedSession(REDACTING, 3 * DAY, 'without digests')),
    );
    const recorded = await endedSession(REDACTING, 3 * DAY);
    const kept = await endedSession(KEEPER, 3 * DAY, 'without digests');

    // An hour on: the sweep looks for an earlier version's records again (LEGACY_CHECK_EVERY_MS).
    clock.advance(LEGACY_CHECK_EVERY_MS);
    await app.get(RetentionSweeper).runNow();

    for (const s of [...earlier, recorded]) {
      const record = await stored(s._id);
      expect(record?.firstParty).toBe(redactPartyNumber(key, s.accountId, s.firstParty));
      expect(record?.secondParty).toBe(redactPartyNumber(key, s.accountId, s.secondParty));
      expect(record?.redactedAt).toBeTruthy();
    }
    expect((await stored(kept._id))?.firstParty).toBe(kept.firstParty);
  });

  it('looks for an earlier version’s records at most once an hour once it has found none (a scan of the history)', async () => {
    clock.advance(LEGACY_CHECK_EVERY_MS);
    await app.get(RetentionSweeper).runNow(); // finds none
    const earlier = await endedSession(REDACTING, 3 * DAY, 'without digests');
    await app.get(RetentionSweeper).runNow();
    expect((await stored(earlier._id))?.firstParty).toBe(earlier.firstParty);
    clock.advance(LEGACY_CHECK_EVERY_MS);
    await app.get(RetentionSweeper).runNow();
    expect((await stored(earlier._id))?.firstParty).toBe(
      redactPartyNumber(key, earlier.accountId, earlier.firstParty),
    );
  });

  it('redacts in one statement records an earlier version wrote with digests beside the numbers', async () => {
    const earlier = await Promise.all(
      Array.from({ length: 5 }, () => endedSession(REDACTING, 3 * DAY, 'with digests')),
    );
    const young = await endedSession(REDACTING, HOUR, 'with digests');

    // An hour on: the sweep looks for an earlier version's records again (LEGACY_CHECK_EVERY_MS).
    clock.advance(LEGACY_CHECK_EVERY_MS);
    await app.get(RetentionSweeper).runNow();

    for (const s of earlier) {
      const record = await stored(s._id);
      expect(record?.firstParty).toBe(redactPartyNumber(key, s.accountId, s.firstParty));
      expect(record?.secondParty).toBe(redactPartyNumber(key, s.accountId, s.secondParty));
      expect(record?.redactedAt).toBeTruthy();
      expect(record).not.toHaveProperty('firstPartyDigest');
      expect(record).not.toHaveProperty('digestKeyId');
    }
    expect((await get(REDACTING, young._id)).firstParty).toBe(young.firstParty);
  });

  it('redacts under the current key a record whose digests were made under an earlier one, and keeps no old digest', async () => {
    const before = await endedSession(REDACTING, 3 * DAY, 'with digests');
    // As if recorded before PARTY_REDACTION_KEY changed: digests under another key.
    await ended.updateOne(
      { _id: before._id },
      {
        $set: {
          digestKeyId: 'an-earlier-key',
          firstPartyDigest: 'redacted:00000000000000000001',
          secondPartyDigest: 'redacted:00000000000000000002',
        },
      },
    );

    // An hour on: the sweep looks for an earlier version's records again (LEGACY_CHECK_EVERY_MS).
    clock.advance(LEGACY_CHECK_EVERY_MS);
    await app.get(RetentionSweeper).runNow();

    const record = await stored(before._id);
    expect(record?.firstParty).toBe(redactPartyNumber(key, before.accountId, before.firstParty));
    expect(record?.secondParty).toBe(redactPartyNumber(key, before.accountId, before.secondParty));
    expect(record).not.toHaveProperty('firstPartyDigest');
    expect(record).not.toHaveProperty('secondPartyDigest');
    expect(record).not.toHaveProperty('digestKeyId');
  });

  it('redacts a session with one party (a Proxy session its second participant never joined)', async () => {
    const alone = { ...(await endedSession(REDACTING, 3 * DAY)) };
    for (const c of await historyCollections()) await c.deleteOne({ _id: alone._id as never });
    await parties.deleteOne({ _id: alone._id });
    await app.get(EndedSessionRepository).recordOne({ ...alone, secondParty: null } as SessionDocument);
    const before = await get(REDACTING, alone._id);
    expect([before.firstParty, before.secondParty]).toEqual([alone.firstParty, null]);

    await app.get(RetentionSweeper).runNow();

    const after = await get(REDACTING, alone._id);
    expect([after.firstParty, after.secondParty]).toEqual([
      redactPartyNumber(key, alone.accountId, alone.firstParty),
      null,
    ]);
    expect(await parties.findById(alone._id).lean()).toBeNull();
  });

  it('finds an ended session by the party’s number, shown with it until redaction and with its digest after', async () => {
    const old = await endedSession(REDACTING, 2 * DAY);
    const recent = await endedSession(REDACTING, HOUR);
    await app.get(RetentionSweeper).runNow();

    const byFirst = (firstParty: string) =>
      client.request(ListSessions, {
        scope: { accountId: REDACTING },
        firstParty,
        status: 'all',
        createdTime: { gte: new Date(clock.now() - 10 * DAY).toISOString() },
        expiryTime: {},
        durationSeconds: {},
        limit: 20,
        offset: 0,
      });
    const redacted = await byFirst(old.firstParty);
    expect(redacted.objects.map((s) => s.sessionId)).toEqual([old._id]);
    expect(redacted.objects[0]!.firstParty).toBe(redactPartyNumber(key, old.accountId, old.firstParty));
    const shown = await byFirst(recent.firstParty);
    expect(shown.objects.map((s) => [s.sessionId, s.firstParty, s.secondParty])).toEqual([
      [recent._id, recent.firstParty, recent.secondParty],
    ]);
  });

  it('keeps the numbers of an account that opted out, and redacts them once it opts back in', async () => {
    const kept = await endedSession(KEEPER, 3 * DAY);
    await app.get(RetentionSweeper).runNow();
    expect((await get(KEEPER, kept._id)).firstParty).toBe(kept.firstParty);

    await app.get(AccountPrivacy).setKeepNumbers(KEEPER, false);
    await app.get(RetentionSweeper).runNow();
    expect((await get(KEEPER, kept._id)).firstParty).toBe(
      redactPartyNumber(key, kept.accountId, kept.firstParty),
    );
    await app.get(AccountPrivacy).setKeepNumbers(KEEPER, true);
  });

  it('deletes a session and its calls after the retention period, even one whose account keeps numbers', async () => {
    const expired = await endedSession(REDACTING, 31 * DAY);
    const kept = await endedSession(KEEPER, 31 * DAY);
    const young = await endedSession(REDACTING, 29 * DAY);

    // The next hour: call steps go by time in one run an hour (CALL_STEPS_EVERY_MS).
    clock.advance(CALL_STEPS_EVERY_MS);
    await app.get(RetentionSweeper).runNow();

    for (const gone of [expired, kept]) {
      await expect(get(gone.accountId, gone._id)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
      expect(await countSteps({ sessionId: gone._id })).toBe(0);
      expect(await parties.findById(gone._id).lean()).toBeNull();
    }
    expect((await get(REDACTING, young._id)).interactions).toHaveLength(1);
  });

  it('deletes call steps by when they were recorded, within a day of their session, and never a step of a session still live or kept', async () => {
    /** A step of `sessionId`'s, recorded `agoMs` before now. */
    const step = async (accountId: string, sessionId: string, agoMs: number) => {
      const id = `${randomUUID()}:answered`;
      await recordStep({
        _id: id,
        accountId,
        sessionId,
        callId: randomUUID(),
        step: 'answered',
        at: new Date(clock.now() - agoMs),
      });
      return id;
    };
    // Due (ended 30 days and 2 hours ago, after three days): a step from its start, and one from its
    // last minutes, recorded less than a day before the cutoff.
    const due = await endedSession(REDACTING, 30 * DAY + 2 * HOUR);
    const earlyStep = await step(REDACTING, due._id, 33 * DAY);
    const lateStep = await step(REDACTING, due._id, 30 * DAY + 2 * HOUR + 60_000);
    // Sessions that lasted long: one began 40 days ago and is still live; one began 45 days ago and
    // ended 10 days ago (kept). Their old steps stay with them.
    const live = await endedSession(REDACTING, null);
    await sessions.updateOne({ _id: live._id }, { $set: { createdAt: new Date(clock.now() - 40 * DAY) } });
    const liveStep = await step(REDACTING, live._id, 39 * DAY);
    const kept = await endedSession(REDACTING, 10 * DAY, undefined, 35 * DAY);
    const keptStep = await step(REDACTING, kept._id, 44 * DAY);
    // …and one an earlier version recorded (in the collection kept before days, never noted as long-lived).
    const keptEarlier = await endedSession(REDACTING, 10 * DAY, 'with digests', 35 * DAY);
    const keptEarlierStep = await step(REDACTING, keptEarlier._id, 44 * DAY);

    clock.advance(CALL_STEPS_EVERY_MS);
    await app.get(RetentionSweeper).runNow();

    await expect(get(REDACTING, due._id)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    // Its early step went with it; the late one is kept no longer than a day past the cutoff.
    expect(await stepExists(earlyStep)).toBe(false);
    expect(await stepExists(lateStep)).toBe(true);
    expect(await stepExists(liveStep)).toBe(true);
    expect(await stepExists(keptStep)).toBe(true);
    expect(await stepExists(keptEarlierStep)).toBe(true);
    expect((await get(REDACTING, kept._id)).interactions).toHaveLength(2);
    // The steps are kept a collection per day: the days before the range are gone (their kept steps moved).
    const stepDays = (await historyCollections('call_events')).map((c) => c.collectionName);
    const dayOf = (agoMs: number) =>
      `call_events_${new Date(clock.now() - agoMs).toISOString().slice(0, 10).replace(/-/g, '')}`;
    expect(stepDays).not.toContain(dayOf(44 * DAY));
    expect(stepDays).not.toContain(dayOf(33 * DAY));

    clock.advance(CALL_STEPS_GRACE_MS);
    await app.get(RetentionSweeper).runNow();
    expect(await countSteps({ sessionId: due._id })).toBe(0);
    expect(await stepExists(liveStep)).toBe(true);
    expect(await stepExists(keptStep)).toBe(true);
  });

  it('drops the days of call steps and deletes the range with more sessions to spare than one query names, moving the spared steps', async () => {
    const now = clock.now();
    const before = new Date(now - 100 * DAY);
    const spared = randomUUID();
    const other = randomUUID();
    const at = (ms: number) => new Date(before.getTime() + ms);
    const step = async (sessionId: string, when: Date) => {
      const id = `${randomUUID()}:answered`;
      await recordStep({
        _id: id,
        accountId: REDACTING,
        sessionId,
        callId: randomUUID(),
        step: 'answered',
        at: when,
      });
      return id;
    };
    // In days wholly before the range (dropped), in the cutoff's day or the one before it (a
    // range, or dropped), after the cutoff (kept), and in the collection kept before days.
    const sparedOld = await step(spared, at(-3 * DAY));
    const otherOld = await step(other, at(-3 * DAY));
    const sparedNear = await step(spared, at(-1000));
    const otherNear = await step(other, at(-1000));
    const otherAfter = await step(other, at(1000));
    const beforeDays: Model<CallEventDocument> = app.get(getModelToken(CallEventDocument.name));
    const earlier = (sessionId: string) =>
      beforeDays
        .create({
          _id: `${randomUUID()}:answered`,
          accountId: REDACTING,
          sessionId,
          callId: randomUUID(),
          step: 'answered',
          at: at(-5 * DAY),
        })
        .then((d) => d._id);
    const sparedEarlier = await earlier(spared);
    const otherEarlier = await earlier(other);
    // One more than a query may name: the steps are matched in memory.
    const keep = [spared, ...Array.from({ length: IN_QUERY_MAX }, () => randomUUID())];

    await app.get(CallEventRepository).deleteRecordedBeforeSystemWide(before, keep);

    for (const id of [sparedOld, sparedNear, sparedEarlier, otherAfter])
      expect(await stepExists(id)).toBe(true);
    for (const id of [otherOld, otherNear, otherEarlier]) expect(await stepExists(id)).toBe(false);
    const stepDays = (await historyCollections('call_events')).map((c) => c.collectionName);
    expect(stepDays).not.toContain(
      `call_events_${at(-3 * DAY)
        .toISOString()
        .slice(0, 10)
        .replace(/-/g, '')}`,
    );
    // The spared step that was in a dropped day is read with its session's.
    expect(await countSteps({ sessionId: spared })).toBe(3);
  });

  it('deletes a due Proxy session’s participants’ places with it, and keeps a kept one’s', async () => {
    const places: Model<ProxyParticipantDocument> = app.get(getModelToken(ProxyParticipantDocument.name));
    const proxied = async (endedAgoMs: number) => {
      const s = await endedSession(REDACTING, endedAgoMs);
      await updateStored(s._id, { proxy: { serviceSid: 'KS' + '0'.repeat(32) } } as Partial<SessionDocument>);
      await places.create({
        _id: `KP${randomUUID().replace(/-/g, '')}`,
        accountId: REDACTING,
        sessionId: s._id,
        slot: 1,
        identifierDigest: `digest-${s._id}`,
      });
      return s;
    };
    const [gone, young] = [await proxied(31 * DAY), await proxied(29 * DAY)];

    await app.get(RetentionSweeper).runNow();

    expect(await stored(gone._id)).toBeNull();
    expect(await places.countDocuments({ sessionId: gone._id })).toBe(0);
    expect(await stored(young._id)).toBeTruthy();
    expect(await places.countDocuments({ sessionId: young._id })).toBe(1);
  });

  it('keeps the history one collection per day of the end: drops the days past retention, a range of the cutoff’s day, and lists across days', async () => {
    const account = `MADAYS${randomUUID().replace(/-/g, '').slice(0, 14).toUpperCase()}`;
    // Noon (UTC), so that a minute either side of the cutoff is the same day, whenever the suite runs.
    clock.advance((((12 * HOUR - (clock.now() % DAY)) % DAY) + DAY) % DAY);
    const cutoff = clock.now() - 30 * DAY;
    // Either side of the cutoff by a minute, and in days well before and after it.
    const [wellPast, justPast, justKept, recent] = [
      await endedSession(account, 33 * DAY),
      await endedSession(account, 30 * DAY + 60_000),
      await endedSession(account, 30 * DAY - 60_000),
      await endedSession(account, 2 * DAY),
    ];
    const live = await endedSession(account, null);
    const dayOf = (ms: number) =>
      `ended_sessions_${new Date(ms).toISOString().slice(0, 10).replace(/-/g, '')}`;
    const names = async () => (await historyCollections()).map((c) => c.collectionName);
    // Each record is in the collection of the day its session ended.
    for (const s of [wellPast, justPast, justKept, recent]) {
      const day = (await historyCollections()).find(
        (c) => c.collectionName === dayOf(s.expiredAt!.getTime()),
      )!;
      expect(await day.findOne({ _id: s._id as never })).not.toBeNull();
    }

    // Listed across days and the live sessions, newest first, with the total of them all.
    const listed = await listOf(account, 40, { limit: 3, offset: 1 });
    expect(listed.total).toBe(5);
    expect(listed.objects.map((o) => o.sessionId)).toEqual([recent._id, justKept._id, justPast._id]);
    expect(listed.objects.map((o) => o.sessionId)).not.toContain(live._id);

    await app.get(RetentionSweeper).runNow();

    await expect(get(account, wellPast._id)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    await expect(get(account, justPast._id)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    expect((await get(account, justKept._id)).sessionId).toBe(justKept._id);
    expect((await get(account, recent._id)).sessionId).toBe(recent._id);
    // No day wholly before the cutoff is left; the cutoff's own day stays, with what it still keeps.
    const left = await names();
    expect(left).not.toContain(dayOf(wellPast.expiredAt!.getTime()));
    for (const name of left.filter((n) => n !== 'ended_sessions')) {
      expect(name >= dayOf(cutoff)).toBe(true);
    }
  });

  it('records ended sessions in `ended_sessions` with ENDED_SESSIONS_BY_DAY=false (an upgrade’s first step), and reads both', async () => {
    const account = `MAFLAG${randomUUID().replace(/-/g, '').slice(0, 14).toUpperCase()}`;
    const firstStep = await startServiceApp(
      SessionServiceModule.forRoot(
        sessionServiceConfigSchema.parse({
          ...testServiceConfig(nats.url),
          MONGO_URL: testStoreUrl(),
          MONGO_DB: sessions.db.name,
          PARTY_REDACTION_KEY: testKey(),
          RETENTION_SWEEP_INTERVAL_MS: '3600000',
          ENDED_SESSIONS_BY_DAY: 'false',
        }),
      ),
      { clock: clock.now },
    );
    try {
      const doc = await endedSession(account, null);
      const marked = { ...doc, status: 'expired', expiredAt: new Date(clock.now()) } as SessionDocument;
      await firstStep.get(EndedSessionRepository).recordOne(marked);
      expect(await ended.findById(doc._id).lean()).not.toBeNull();
      // This version (by day) finds it there too.
      expect((await app.get(EndedSessionRepository).getByIdSystemWide(doc._id))?._id).toBe(doc._id);
      await sessions.deleteOne({ _id: doc._id });
    } finally {
      await firstStep.close();
    }
  });

  it('drains in one run what became due since the last, though it is more than one batch', async () => {
    const backlog = await Promise.all(
      Array.from({ length: SWEEP_BATCH + 30 }, () => endedSession(REDACTING, 40 * DAY)),
    );
    const ids = backlog.map((s) => s._id);

    clock.advance(CALL_STEPS_EVERY_MS);
    await app.get(RetentionSweeper).runNow();
    expect(await countStored(ids)).toBe(0);
    expect(await parties.countDocuments({ _id: { $in: ids } })).toBe(0);
    expect(await countSteps({ sessionId: { $in: ids } })).toBe(0);
  });

  it('forgets Idempotency-Keys and allocation fates past IDEMPOTENCY_RETENTION_MS (a day), and keeps younger ones', async () => {
    const keys = sessions.db.collection<{ _id: string }>('idempotency_keys');
    const fates = sessions.db.collection<{ _id: string }>('allocation_fates');
    const at = (ago: number) => new Date(clock.now() - ago);
    const key = (id: string, ago: number) => ({
      _id: id,
      accountId: REDACTING,
      requestHash: 'a'.repeat(64),
      sessionId: randomUUID(),
      createdAt: at(ago),
    });
    const fate = (id: string, ago: number) => ({
      _id: id,
      accountId: REDACTING,
      fate: 'kept',
      createdAt: at(ago),
    });
    const [oldKey, newKey, oldFate, newFate] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await keys.insertMany([key(oldKey, 2 * DAY), key(newKey, HOUR)]);
    await fates.insertMany([fate(oldFate, 2 * DAY), fate(newFate, HOUR)]);

    await app.get(RetentionSweeper).runNow();

    expect(await keys.countDocuments({ _id: { $in: [oldKey, newKey] } })).toBe(1);
    expect(await keys.findOne({ _id: newKey })).not.toBeNull();
    expect(await fates.countDocuments({ _id: { $in: [oldFate, newFate] } })).toBe(1);
    expect(await fates.findOne({ _id: newFate })).not.toBeNull();
  });
});
