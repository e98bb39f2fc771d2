import { randomUUID } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { newSessionId, sessionIdTime } from '@maskline/contracts';
import { dayPartitionSuffix, unpackAscending } from '@maskline/persistence';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';
import { seedHistory } from './history-seeder';

const DAY = 86_400_000;

/**
 * The soak's history seeder, on the real store, with records shaped as the services write them
 * today: a soak is never part of `npm test`, so a change to a record's id or collection could
 * otherwise break it unseen (it did once: every copy of a delivered callback's record got one id).
 */
describe('the soak’s history seeder (real store)', () => {
  let store: Connection;
  const prefix = uniqueDbName('seedcheck');

  beforeAll(async () => {
    store = await mongoose.createConnection(testStoreUrl()).asPromise();
  });
  afterAll(async () => {
    for (const db of ['session_service', 'callback_dispatcher', 'pin_auth']) {
      await store.useDb(`${prefix}_${db}`).dropDatabase();
    }
    await store.close();
  });

  it('copies each kind of history into its days, with ids of its own that still tie a copy’s records together', async () => {
    const now = new Date();
    const today = dayPartitionSuffix(now);
    const sessionId = newSessionId(now.getTime() - 60_000);
    const callId = randomUUID();
    const eventId = `evt-${Math.floor(Math.random() * 1e9)}`;
    const db = (name: string) => store.useDb(`${prefix}_${name}`).db!;
    await db('session_service')
      .collection(`ended_sessions_${today}`)
      .insertOne({
        _id: sessionId as never,
        accountId: 'MASEEDCHECK000000001',
        createdAt: now,
        expiredAt: now,
      });
    await db('session_service')
      .collection(`call_events_${today}`)
      .insertOne({ _id: `${callId}:answered` as never, sessionId, callId, step: 'answered', at: now });
    // A delivered callback's record: an id made of no UUID.
    await db('callback_dispatcher')
      .collection(`callback_attempts_${today}`)
      .insertOne({ _id: `${eventId}:delivered` as never, sessionId, at: now, outcome: 'delivered' });
    await db('pin_auth')
      .collection(`pin_attempts_${today}`)
      .insertOne({ _id: `${callId}:failed:1` as never, sessionId, callId, at: now, outcome: 'failed' });

    // A tally a sweep made of a past day before the seeding: it would not count the copies.
    const twoDaysAgo = `ended_sessions_${dayPartitionSuffix(new Date(now.getTime() - 2 * DAY))}`;
    await db('session_service')
      .collection('ended_session_tallies')
      .insertOne({ _id: twoDaysAgo as never, day: twoDaysAgo, groups: [], tooMany: false, talliedAt: now });

    const report = await seedHistory(store, prefix, 3, 3 * DAY);

    // Each seeded day the sweeps would have tallied by now (three hours after it) is tallied as they
    // tally one (the stale tally replaced); today, which holds the run's own sessions, is left to them.
    const tallies = await db('session_service').collection('ended_session_tallies').find({}).toArray();
    const dayStart = Math.floor(now.getTime() / DAY) * DAY;
    const seededDays = [1, 2, 3]
      .filter((d) => dayStart - (d - 1) * DAY + 3 * 3_600_000 <= now.getTime())
      .map((d) => `ended_sessions_${dayPartitionSuffix(new Date(now.getTime() - d * DAY))}`);
    expect(seededDays).toContain(twoDaysAgo);
    for (const day of seededDays) {
      expect(tallies.find((t) => String(t._id) === day)).toMatchObject({ day, groups: [], tooMany: false });
      const ofAccount = tallies.find((t) => String(t._id) === `${day}:MASEEDCHECK000000001`);
      const records = await db('session_service').collection(day).countDocuments();
      expect(ofAccount?.groups).toEqual([
        expect.objectContaining({ accountId: 'MASEEDCHECK000000001', subaccountId: null, count: records }),
      ]);
      // Each start, as the service packs them: a list whose dates cut through the day counts from them.
      const starts = (await db('session_service').collection(day).find({}).toArray())
        .map((r) => (r.createdAt as Date).getTime())
        .sort((a, b) => a - b);
      expect(unpackAscending(String(ofAccount?.groups[0].starts))).toEqual(starts);
    }
    expect(
      tallies
        .filter((t) => t._id === t.day)
        .map((t) => t._id)
        .sort(),
    ).toEqual(seededDays.sort());

    expect(report.copies).toBe(3);
    expect(report.inserted).toMatchObject({
      ended_sessions: 3,
      call_events: 3,
      callback_attempts: 3,
      pin_attempts: 3,
    });
    // The oldest copy is the span old, in its own day's collection; its step belongs to its session.
    const oldDay = dayPartitionSuffix(new Date(now.getTime() - 3 * DAY));
    const [oldSession] = await db('session_service')
      .collection(`ended_sessions_${oldDay}`)
      .find({})
      .toArray();
    expect(oldSession?._id).not.toBe(sessionId);
    // A copy's id is not of version 7: its time would say it began today, and reads by it would skip its days.
    expect(sessionIdTime(String(oldSession?._id))).toBeNull();
    const [oldStep] = await db('session_service').collection(`call_events_${oldDay}`).find({}).toArray();
    expect(oldStep?.sessionId).toBe(oldSession?._id);
    expect(oldStep?.callId).not.toBe(callId);
    const delivered = await db('callback_dispatcher')
      .collection(`callback_attempts_${oldDay}`)
      .find({})
      .toArray();
    expect(delivered.map((d) => d._id)).toEqual([`${eventId}:delivered~3`]);
  });
});
