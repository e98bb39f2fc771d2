import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getConnectionToken, getModelToken } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import { newSessionId } from '@maskline/contracts';
import { dayPartitionSuffix } from '@maskline/persistence';
import {
  startServiceApp,
  startTestNats,
  testClock,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { CallbackDispatcherModule } from '../callback-dispatcher.module';
import { testDispatcherConfig } from '../config/callback-dispatcher-config.test-fixture';
import { CallbackRetentionSweeper } from '../privacy/callback-retention-sweeper';
import { CallbackAttempts } from './callback-attempts.repository';
import { CallbackAttemptDocument } from './callback-records.schema';

const DAY = 86_400_000;
const ACCOUNT = 'MACBATTEMPTSBYDAY001';
const OTHER = 'MACBATTEMPTSOTHER001';

describe('callback attempts kept one collection per day (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let connection: Connection;
  let attempts: CallbackAttempts;
  let retentionDays: number;
  const clock = testClock();

  beforeAll(async () => {
    nats = await startTestNats();
    const config = testDispatcherConfig(nats.url, {
      MONGO_DB: uniqueDbName('cb-attempt-days'),
      RETENTION_SWEEP_INTERVAL_MS: '3600000',
    });
    retentionDays = config.CALLBACK_ATTEMPT_RETENTION_DAYS;
    app = await startServiceApp(CallbackDispatcherModule.forRoot(config), { clock: clock.now });
    connection = app.get(getConnectionToken());
    attempts = app.get(CallbackAttempts);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  const collections = async () =>
    (await connection.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();

  /** An attempt recorded as the deliverer records one, `agoMs` before now. */
  async function attempt(sessionId: string, agoMs: number, accountId = ACCOUNT) {
    const at = new Date(clock.now() - agoMs);
    await attempts.record({
      eventId: randomUUID(),
      eventName: 'SessionCallFinished',
      accountId,
      sessionId,
      url: 'http://127.0.0.1:9/cb',
      method: 'POST',
      attempt: 1,
      at,
      outcome: 'delivered',
      statusCode: 200,
      latencyMs: 3,
      error: null,
    });
    return at;
  }

  it('has today’s and tomorrow’s collections ready at boot, with their indexes', async () => {
    const now = new Date(clock.now());
    const names = await collections();
    const today = `callback_attempts_${dayPartitionSuffix(now)}`;
    const tomorrow = `callback_attempts_${dayPartitionSuffix(new Date(now.getTime() + DAY))}`;
    expect(names).toEqual(expect.arrayContaining([today, tomorrow]));
    const indexes = (await connection.db!.collection(today).indexes()).map((i) => i.name).sort();
    expect(indexes).toEqual(['_id_', 'accountId_1_at_1', 'accountId_1_sessionId_1_at_1', 'at_1']);
  });

  it('writes a delivering attempt once under its id, however often it is written (a redelivery after a lost write)', async () => {
    const session = randomUUID();
    const eventId = randomUUID();
    const delivered = {
      eventId,
      eventName: 'SessionCallFinished',
      accountId: OTHER,
      sessionId: session,
      url: 'http://127.0.0.1:9/cb',
      method: 'POST' as const,
      attempt: 2,
      at: new Date(clock.now()),
      outcome: 'delivered' as const,
      statusCode: 200,
      latencyMs: 3,
      error: null,
    };
    await attempts.record(delivered, `${eventId}:delivered`);
    await attempts.record(delivered, `${eventId}:delivered`);
    expect(await attempts.ofSession(OTHER, session)).toEqual([
      expect.objectContaining({ eventId, attempt: 2, outcome: 'delivered' }),
    ]);
  });

  it('reads a session’s attempts across days and the collection kept before, in time order, and only its account’s', async () => {
    // Made by the system: its id says when it began, and reads start there.
    const session = newSessionId(clock.now() - 4 * DAY - 1000);
    const times = [await attempt(session, 3 * DAY), await attempt(session, 0), await attempt(session, DAY)];
    // One written where attempts were kept before days (an earlier version's).
    const before: Model<CallbackAttemptDocument> = app.get(getModelToken(CallbackAttemptDocument.name));
    const earliest = new Date(clock.now() - 4 * DAY);
    await before.create({
      _id: randomUUID(),
      eventId: randomUUID(),
      eventName: 'SessionCallFinished',
      accountId: ACCOUNT,
      sessionId: session,
      url: 'http://127.0.0.1:9/cb',
      method: 'POST',
      attempt: 1,
      at: earliest,
      outcome: 'retry',
    });
    await attempt(session, DAY, OTHER);

    const found = await attempts.ofSession(ACCOUNT, session);
    expect(found.map((a) => a.at.getTime())).toEqual(
      [earliest, ...times].map((t) => t.getTime()).sort((a, b) => a - b),
    );
    expect(found.every((a) => a.accountId === ACCOUNT)).toBe(true);
    // The statistics' read: newest first, from the days since then.
    const recent = await attempts.since(ACCOUNT, new Date(clock.now() - 2 * DAY), 100);
    expect(recent.map((a) => a.at.getTime())).toEqual(
      times
        .filter((t) => t.getTime() >= clock.now() - 2 * DAY)
        .map((t) => t.getTime())
        .sort((a, b) => b - a),
    );
  });

  it('drops the days past retention whole, deletes the cutoff day’s range, and keeps the rest', async () => {
    const session = randomUUID();
    const cutoff = clock.now() - retentionDays * DAY;
    const old = [
      await attempt(session, retentionDays * DAY + 3 * DAY),
      await attempt(session, retentionDays * DAY + 2 * DAY),
    ];
    const oldDays = old.map((t) => `callback_attempts_${dayPartitionSuffix(t)}`);
    const [justBefore, justAfter] = [
      await attempt(session, retentionDays * DAY + 1000),
      await attempt(session, retentionDays * DAY - 1000),
    ];
    const young = await attempt(session, DAY);
    expect(await collections()).toEqual(expect.arrayContaining(oldDays));

    await app.get(CallbackRetentionSweeper).runNow();

    const left = (await attempts.ofSession(ACCOUNT, session)).map((a) => a.at.getTime());
    expect(left).toEqual([justAfter.getTime(), young.getTime()]);
    expect(left.every((t) => t >= cutoff)).toBe(true);
    expect(justBefore.getTime()).toBeLessThan(cutoff);
    // Whole days went as collections, not document by document.
    const names = await collections();
    for (const day of oldDays) expect(names).not.toContain(day);
    // A day's collection is made again when it is written to after a drop (a late attempt).
    await attempt(session, retentionDays * DAY + 3 * DAY);
    expect(await collections()).toContain(oldDays[0]);
  });
});
