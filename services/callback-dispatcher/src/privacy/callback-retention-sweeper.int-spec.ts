import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { redactPartyNumber } from '@maskline/contracts';
import { AccountPrivacy } from '@maskline/messaging';
import {
  startServiceApp,
  startTestNats,
  testClock,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { CallbackDispatcherModule } from '../callback-dispatcher.module';
import { testDispatcherConfig } from '../config/callback-dispatcher-config.test-fixture';
import { CallbackAttemptDocument, DeadLetterDocument } from '../records/callback-records.schema';
import { DeadLetters, replayIdOf } from '../records/dead-letters.repository';
import { CallbackRetentionSweeper, LEGACY_LETTERS_CHECK_EVERY_MS } from './callback-retention-sweeper';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const REDACTING = 'MACBRETAINREDACT0001';
const KEEPER = 'MACBRETAINKEEPER0001';
const VIRTUAL = '14155550100';

describe('retention and redaction of callback records (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let letters: Model<DeadLetterDocument>;
  let attempts: Model<CallbackAttemptDocument>;
  let key: Buffer;
  const clock = testClock();

  beforeAll(async () => {
    nats = await startTestNats();
    const config = testDispatcherConfig(nats.url, {
      MONGO_DB: uniqueDbName('cb-retention'),
      RETENTION_SWEEP_INTERVAL_MS: '3600000',
    });
    key = config.PARTY_REDACTION_KEY;
    app = await startServiceApp(CallbackDispatcherModule.forRoot(config), { clock: clock.now });
    letters = app.get(getModelToken(DeadLetterDocument.name));
    attempts = app.get(getModelToken(CallbackAttemptDocument.name));
    await app.get(AccountPrivacy).setKeepNumbers(KEEPER, true);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  const sweep = () => app.get(CallbackRetentionSweeper).runNow();

  /** A dead letter recorded as the deliverer records one (or, `withoutDigests`, as earlier versions did). */
  async function deadLetter(
    accountId: string,
    agoMs: number,
    from = '14155551234',
    to = '14155555678',
    withoutDigests = false,
  ) {
    const doc = {
      _id: randomUUID(),
      accountId,
      subaccountId: null,
      sessionId: randomUUID(),
      eventName: 'SessionCallFinished',
      target: 'session' as const,
      // As Plivo writes numbers: digits, no '+'. A call from the virtual number names it as From.
      params: {
        EventName: 'SessionCallFinished',
        From: from,
        To: to,
        VirtualNumber: VIRTUAL,
        Duration: '42',
      },
      sequence: 1,
      url: 'http://127.0.0.1:9/cb',
      method: 'POST',
      reason: 'HTTP 500',
      attempts: 5,
      at: new Date(clock.now() - agoMs),
      replayedAt: null,
    };
    if (withoutDigests) await letters.create(doc);
    else await app.get(DeadLetters).record(doc);
    return doc;
  }

  async function attempt(agoMs: number) {
    const doc = {
      _id: randomUUID(),
      eventId: randomUUID(),
      eventName: 'SessionCallFinished',
      accountId: REDACTING,
      sessionId: randomUUID(),
      url: 'http://127.0.0.1:9/cb',
      method: 'POST',
      attempt: 1,
      at: new Date(clock.now() - agoMs),
      outcome: 'delivered',
    };
    await attempts.create(doc);
    return doc;
  }

  it('replaces the parties’ numbers in a dead letter after the redaction period, never the virtual number', async () => {
    const old = await deadLetter(REDACTING, 25 * HOUR);
    const outbound = await deadLetter(REDACTING, 25 * HOUR, VIRTUAL, '14155559999');
    const recent = await deadLetter(REDACTING, 23 * HOUR);
    const kept = await deadLetter(KEEPER, 25 * HOUR);

    await sweep();

    const redacted = await letters.findById(old._id).lean();
    expect(redacted!.params).toEqual({
      ...old.params,
      From: redactPartyNumber(key, REDACTING, '+14155551234'),
      To: redactPartyNumber(key, REDACTING, '+14155555678'),
    });
    expect(redacted!.redactedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(redacted)).not.toContain('14155551234');
    expect(JSON.stringify(redacted)).not.toContain('14155555678');
    expect(redacted).not.toHaveProperty('digestKeyId');
    expect((await letters.findById(outbound._id).lean())!.params).toMatchObject({
      From: VIRTUAL,
      To: redactPartyNumber(key, REDACTING, '+14155559999'),
      VirtualNumber: VIRTUAL,
    });
    expect((await letters.findById(recent._id).lean())!.params).toEqual(recent.params);
    expect((await letters.findById(kept._id).lean())!.params).toEqual(kept.params);

    // Idempotent: a second sweep leaves a redacted letter as it is.
    await sweep();
    expect((await letters.findById(old._id).lean())!.params).toEqual(redacted!.params);
  });

  it('removes a recording callback’s sealed URL from its dead letter with the numbers, by either sweep', async () => {
    const sealedRecordingUrl = { callId: 'CA1', sealed: { k: 'rec1', iv: 'aXY=', ct: 'Y3Q=', tag: 'dGFn' } };
    const withUrl = async (accountId: string, agoMs: number, withoutDigests = false) => {
      const letter = await deadLetter(accountId, agoMs, '14155551234', '14155555678', withoutDigests);
      await letters.updateOne({ _id: letter._id }, { $set: { sealedRecordingUrl } });
      return letter;
    };
    const due = await withUrl(REDACTING, 25 * HOUR);
    const earlier = await withUrl(REDACTING, 25 * HOUR, true);
    const recent = await withUrl(REDACTING, 20 * HOUR);
    const kept = await withUrl(KEEPER, 25 * HOUR);

    // An hour on, the catch-up looks for letters without current digests too.
    clock.advance(LEGACY_LETTERS_CHECK_EVERY_MS);
    await sweep();

    for (const gone of [due, earlier]) {
      const stored = await letters.findById(gone._id).lean();
      expect(stored!.redactedAt).toBeInstanceOf(Date);
      expect(stored).not.toHaveProperty('sealedRecordingUrl');
    }
    for (const stays of [recent, kept]) {
      expect((await letters.findById(stays._id).lean())!.sealedRecordingUrl).toEqual(sealedRecordingUrl);
    }
  });

  it('redacts, batch by batch, dead letters an earlier version wrote without digests', async () => {
    const earlier = await Promise.all(
      Array.from({ length: 520 }, (_, i) =>
        deadLetter(REDACTING, 2 * DAY, `1415444${String(i).padStart(4, '0')}`, '14155555678', true),
      ),
    );
    const kept = await deadLetter(KEEPER, 2 * DAY, '14155551234', '14155555678', true);

    // An hour on: the sweep looks for such letters again (LEGACY_LETTERS_CHECK_EVERY_MS).
    clock.advance(LEGACY_LETTERS_CHECK_EVERY_MS);
    await sweep();

    for (const letter of earlier) {
      const stored = await letters.findById(letter._id).lean();
      expect(stored!.params.From).toBe(redactPartyNumber(key, REDACTING, `+${letter.params.From}`));
      expect(stored!.params.To).toBe(redactPartyNumber(key, REDACTING, '+14155555678'));
    }
    expect((await letters.findById(kept._id).lean())!.params).toEqual(kept.params);
  });

  it('redacts under the current key a letter recorded under an earlier one, and keeps no old digest', async () => {
    const before = await deadLetter(REDACTING, 2 * DAY, '14155550001', '14155550002');
    await letters.updateOne(
      { _id: before._id },
      { $set: { digestKeyId: 'an-earlier-key', 'redactedParams.From': 'redacted:00000000000000000001' } },
    );

    // An hour on: the sweep looks for such letters again (LEGACY_LETTERS_CHECK_EVERY_MS).
    clock.advance(LEGACY_LETTERS_CHECK_EVERY_MS);
    await sweep();

    const stored = await letters.findById(before._id).lean();
    expect(stored!.params.From).toBe(redactPartyNumber(key, REDACTING, '+14155550001'));
    expect(stored!.params.To).toBe(redactPartyNumber(key, REDACTING, '+14155550002'));
    expect(stored).not.toHaveProperty('redactedParams');
    expect(stored).not.toHaveProperty('digestKeyId');
  });

  it('looks for letters without current digests once an hour across replicas, and at every run while it finds some', async () => {
    clock.advance(LEGACY_LETTERS_CHECK_EVERY_MS);
    await sweep(); // this hour's look: finds none
    const earlier = await deadLetter(REDACTING, 2 * DAY, '14155550005', '14155550006', true);
    await sweep();
    expect((await letters.findById(earlier._id).lean())!.params.From).toBe('14155550005');
    clock.advance(LEGACY_LETTERS_CHECK_EVERY_MS);
    await sweep();
    expect((await letters.findById(earlier._id).lean())!.params.From).toBe(
      redactPartyNumber(key, REDACTING, '+14155550005'),
    );
  });

  it('keeps a redacted letter redacted when its replay fails again', async () => {
    const letter = await deadLetter(REDACTING, 2 * DAY, '14155550003', '14155550004');
    await sweep();
    const redacted = await letters.findById(letter._id).lean();
    expect(redacted!.redactedAt).toBeInstanceOf(Date);

    // The replay's delivery fails again: the dispatcher records the letter anew.
    await app.get(DeadLetters).record({ ...letter, reason: 'HTTP 503', at: new Date(clock.now()) });

    const again = await letters.findById(letter._id).lean();
    expect(again!.params).toEqual(redacted!.params);
    expect(again!.reason).toBe('HTTP 503');
    expect(JSON.stringify(again)).not.toContain('14155550003');
    expect(JSON.stringify(again)).not.toContain('14155550004');
  });

  it('counts a letter’s redaction and retention from its first failure, however often a replay fails again', async () => {
    const letter = await deadLetter(REDACTING, 23 * HOUR, '14155550007', '14155550008');
    // Replayed and failed again every 23 hours (a tenant's endpoint answering 400, say).
    clock.advance(2 * HOUR);
    await app.get(DeadLetters).record({ ...letter, reason: 'HTTP 400', at: new Date(clock.now()) });
    await sweep();
    const stored = await letters.findById(letter._id).lean();
    expect(stored!.reason).toBe('HTTP 400');
    expect(stored!.at).toEqual(letter.at);
    // Its date stands, and the failure is still its own to replay: a replay of it is not the first's.
    expect(replayIdOf(stored!)).not.toBe(replayIdOf(letter));
    // A redelivery after a crash writes the same failure again: the same replay.
    await app.get(DeadLetters).record({ ...letter, reason: 'HTTP 400', at: stored!.lastFailedAt! });
    expect(replayIdOf((await letters.findById(letter._id).lean())!)).toBe(replayIdOf(stored!));
    expect(JSON.stringify(stored)).not.toContain('14155550007');
    expect(JSON.stringify(stored)).not.toContain('14155550008');
    // Past the retention from its first failure it goes, its last failure a minute old.
    clock.advance(30 * DAY);
    await app.get(DeadLetters).record({ ...letter, reason: 'HTTP 400', at: new Date(clock.now() - 60_000) });
    await sweep();
    expect(await letters.findById(letter._id).lean()).toBeNull();
  });

  it('deletes attempts and dead letters past their retention, and only those', async () => {
    const [oldAttempt, youngAttempt] = [await attempt(8 * DAY), await attempt(6 * DAY)];
    const [oldLetter, youngLetter] = [
      await deadLetter(KEEPER, 31 * DAY),
      await deadLetter(REDACTING, 29 * DAY),
    ];

    await sweep();

    expect(await attempts.exists({ _id: oldAttempt._id })).toBeNull();
    expect(await attempts.exists({ _id: youngAttempt._id })).not.toBeNull();
    expect(await letters.exists({ _id: oldLetter._id })).toBeNull();
    expect(await letters.exists({ _id: youngLetter._id })).not.toBeNull();
  });
});
