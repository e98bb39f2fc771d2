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
import { testPinAuthConfig } from '../config/pin-auth-config.test-fixture';
import { PinAuthModule } from '../pin-auth.module';
import { PinAttemptLog, type PinEntry } from './pin-attempt-log';
import { PinAttemptRetention } from './pin-attempt-retention';
import { PinAttemptDocument } from './pin-attempt.schema';

const DAY = 86_400_000;
const ACCOUNT = 'MAPINATTEMPTDAYS0001';
const OTHER = 'MAPINATTEMPTOTHER001';
const CALLER = '+14155550161';

describe('PIN entries kept one collection per day (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let connection: Connection;
  let log: PinAttemptLog;
  let retentionDays: number;
  const clock = testClock();

  beforeAll(async () => {
    nats = await startTestNats();
    const config = testPinAuthConfig(nats.url, {
      MONGO_DB: uniqueDbName('pin-attempt-days'),
      REAPER_INTERVAL_MS: '3600000',
    });
    retentionDays = config.PIN_ATTEMPT_RETENTION_DAYS;
    app = await startServiceApp(PinAuthModule.forRoot(config), { clock: clock.now });
    connection = app.get(getConnectionToken());
    log = app.get(PinAttemptLog);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  const collections = async () =>
    (await connection.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();

  /** An entry recorded as verification records one, `agoMs` before now. */
  async function entry(over: Partial<PinEntry> & { agoMs: number }): Promise<PinEntry> {
    const e: PinEntry = {
      accountId: ACCOUNT,
      virtualNumber: '+14155550100',
      callerNumber: CALLER,
      callId: randomUUID(),
      attempt: 1,
      outcome: 'failed',
      sessionId: null,
      ...over,
      at: new Date(clock.now() - over.agoMs),
    };
    await log.record(e);
    return e;
  }

  /** An entry as an earlier version wrote it: in `pin_attempts`, the collection kept before days. */
  async function earlierVersionEntry(sessionId: string, at: Date): Promise<string> {
    const before: Model<PinAttemptDocument> = app.get(getModelToken(PinAttemptDocument.name));
    const callId = randomUUID();
    await before.create({
      _id: `${callId}:success:1`,
      accountId: ACCOUNT,
      virtualNumber: '+14155550100',
      callerKey: 'k',
      callerMasked: '+1415***0161',
      callId,
      outcome: 'success',
      attempt: 1,
      sessionId,
      at,
    });
    return callId;
  }

  it('has today’s and tomorrow’s collections ready at boot, with the indexes its reads use', async () => {
    const now = new Date(clock.now());
    const names = await collections();
    const today = `pin_attempts_${dayPartitionSuffix(now)}`;
    expect(names).toEqual(
      expect.arrayContaining([today, `pin_attempts_${dayPartitionSuffix(new Date(now.getTime() + DAY))}`]),
    );
    const indexes = (await connection.db!.collection(today).indexes()).map((i) => i.name).sort();
    expect(indexes).toEqual([
      '_id_',
      'accountId_1_at_1',
      'accountId_1_callId_1',
      'accountId_1_sessionId_1',
      'at_1',
    ]);
  });

  it('writes an entry in its day once, however often it is written, and never the caller’s number in clear', async () => {
    const e = await entry({ agoMs: 0, sessionId: randomUUID(), outcome: 'success' });
    await log.record(e);
    const day = connection.db!.collection(`pin_attempts_${dayPartitionSuffix(e.at)}`);
    const stored = await day.find({ callId: e.callId }).toArray();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(CALLER.slice(1));
  });

  it('gives a session’s entries and the other entries of its calls across days and the collection kept before, oldest first, only its account’s', async () => {
    // An earlier version's session id (random): every day is read for its entries.
    const session = randomUUID();
    const callId = randomUUID();
    // A call whose entries are in two days' collections (as one straddling midnight): two failures a day ago, the match now.
    const first = await entry({ agoMs: DAY + 2000, callId, attempt: 1 });
    const second = await entry({ agoMs: DAY + 1000, callId, attempt: 2 });
    const matched = await entry({ agoMs: 0, callId, attempt: 3, outcome: 'success', sessionId: session });
    // One written where entries were kept before days (an earlier version's).
    const earliest = new Date(clock.now() - 3 * DAY);
    const olderCall = await earlierVersionEntry(session, earliest);
    // Another account's entries: one under the same session and call ids, never given to this one.
    await entry({ agoMs: 0, accountId: OTHER, callId, attempt: 4, sessionId: session });

    const found = await log.ofSession(ACCOUNT, session);
    expect(found.map((a) => [a.callId, a.attempt, a.at])).toEqual([
      [olderCall, 1, earliest.toISOString()],
      [callId, 1, first.at.toISOString()],
      [callId, 2, second.at.toISOString()],
      [callId, 3, matched.at.toISOString()],
    ]);
    // …and this account's never given to the other, though they share the session and call ids.
    expect((await log.ofSession(OTHER, session)).map((a) => [a.callId, a.attempt])).toEqual([[callId, 4]]);

    // The PIN security summary's read: newest first, from the days since then.
    const recent = await log.since(ACCOUNT, new Date(second.at.getTime() - 1));
    const times = recent.map((a) => a.at);
    expect(times).toContain(second.at.toISOString());
    expect(times).not.toContain(first.at.toISOString());
    expect(times).not.toContain(earliest.toISOString());
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('drops the days past retention whole, deletes the cutoff day’s range and the collection kept before’s, and keeps the rest', async () => {
    // Pinned at noon, so that a second either side of the cutoff falls in its day.
    clock.advance(Date.UTC(2031, 5, 1, 12) - clock.now());
    // Made by the system: its id says when it began, and reads start there.
    const session = newSessionId(clock.now() - retentionDays * DAY - 4 * DAY);
    const at = (agoMs: number) =>
      entry({ agoMs, sessionId: session, callId: randomUUID(), outcome: 'success' }).then((e) => e.at);
    const old = [await at(retentionDays * DAY + 3 * DAY), await at(retentionDays * DAY + 2 * DAY)];
    const oldDays = old.map((t) => `pin_attempts_${dayPartitionSuffix(t)}`);
    const justBefore = await at(retentionDays * DAY + 1000);
    const justAfter = await at(retentionDays * DAY - 1000);
    const young = await at(DAY);
    await earlierVersionEntry(session, new Date(clock.now() - retentionDays * DAY - 5000));
    expect(await collections()).toEqual(expect.arrayContaining(oldDays));

    await app.get(PinAttemptRetention).runNow();

    const left = (await log.ofSession(ACCOUNT, session)).map((a) => a.at);
    expect(left).toEqual([justAfter.toISOString(), young.toISOString()]);
    expect(justBefore.getTime()).toBeLessThan(clock.now() - retentionDays * DAY);
    const names = await collections();
    for (const day of oldDays) expect(names).not.toContain(day);
  });
});
