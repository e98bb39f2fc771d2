import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { connect, type NatsConnection } from 'nats';
import { NATS_RECORD_BYTES, STREAMS, subaccountShare } from '@maskline/contracts';
import {
  startServiceApp,
  startTestNats,
  testClock,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { CallbackDispatcherModule } from '../callback-dispatcher.module';
import { testDispatcherConfig } from '../config/callback-dispatcher-config.test-fixture';
import { DeadLetterDocument } from '../records/callback-records.schema';
import { DeadLetters } from '../records/dead-letters.repository';
import { LOST_BEFORE_RETRY } from './delivery-state-machine';
import { DeliveryLedger } from './delivery-ledger';
import { LostRetrySweeper } from './lost-retry-sweeper';
import { LostRetryWatch, RETRY_WATCH_BUCKET, WATCH_BLOCK, type WatchedRetry } from './lost-retry-watch';

const ACCOUNT = 'MALOSTRETRY000000001';

describe('callbacks whose retry the full event stream forgot (real NATS + store)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let app: INestApplicationContext;
  let letters: Model<DeadLetterDocument>;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    const config = testDispatcherConfig(nats.url, { MONGO_DB: uniqueDbName('cb-lost') });
    app = await startServiceApp(CallbackDispatcherModule.forRoot(config), { clock: testClock().now });
    letters = app.get(getModelToken(DeadLetterDocument.name));
  });

  afterAll(async () => {
    await nc?.close();
    await app?.close();
    await nats?.stop();
  });

  /** A callback whose retry was scheduled after `attempts` attempts, as the deliverer writes it down. */
  /** The dead letter a watched retry ended in, with this reason. */
  const letterOf = (r: WatchedRetry, reason: string, replayedAt: Date | null) => ({
    _id: r.eventId,
    accountId: ACCOUNT,
    subaccountId: null,
    sessionId: r.callback.sessionId,
    eventName: 'SessionTimeout',
    target: 'session' as const,
    params: r.callback.params,
    sequence: 1,
    url: r.url,
    reason,
    attempts: 3,
    at: new Date(r.failedAt),
    replayedAt,
  });
  const retry = (attempts: number): WatchedRetry => {
    const eventId = randomUUID();
    return {
      eventId,
      attemptKey: eventId,
      attempts,
      url: 'http://127.0.0.1:9/hook',
      callback: {
        accountId: ACCOUNT,
        sessionId: randomUUID(),
        target: 'session',
        eventName: 'SessionTimeout',
        params: { EventName: 'SessionTimeout' },
      },
      sequence: 1,
      subaccountId: null,
      failedAt: Date.parse('2026-12-05T08:00:00Z'),
    };
  };

  it('dead-letters, once the stream has forgotten its event, a callback whose retry never came, and no other', async () => {
    const watch = app.get(LostRetryWatch);
    const js = nc.jetstream();
    const published = async () => (await js.publish('events.test.lost.v1', new Uint8Array([123, 125]))).seq;

    // Its retry never comes: the stream forgets the event first.
    const lost = retry(3);
    const lostAt = await published();
    await watch.watch(lostAt, lost, null);
    // Its retry came, and it ended (removing its watch, as the deliverer does) before the stream forgot it.
    const came = retry(3);
    const cameAt = await published();
    await watch.watch(cameAt, came, null);
    await watch.forget([(await watch.of(cameAt))!]);
    // Delivered, though its watch is still there (NATS did not take its removal): no dead letter.
    const delivered = retry(2);
    await watch.watch(await published(), delivered, null);
    await app.get(DeliveryLedger).markDelivered(delivered.eventId, { at: Date.now() });
    // Events the stream still holds: the rest of the block it is forgetting, and a later block.
    const heldAt = WATCH_BLOCK + 20;
    await watch.watch(heldAt, retry(1), null);
    const later = retry(1);
    await watch.watch(3 * WATCH_BLOCK + 5, later, null);

    const sweeper = app.get(LostRetrySweeper);
    // Nothing forgotten yet: nothing is judged lost (and where the stream begins is learnt).
    await expect(sweeper.sweep()).resolves.toBe(0);
    await expect(sweeper.sweep()).resolves.toBe(0);
    expect(await letters.countDocuments({ accountId: ACCOUNT })).toBe(0);

    // A flood of newer events: the stream forgets everything before this (as its bound makes it).
    const jsm = await nc.jetstreamManager();
    await jsm.streams.purge(STREAMS.MASKLINE_EVENTS.name, { seq: WATCH_BLOCK + 10 });
    expect((await jsm.streams.info(STREAMS.MASKLINE_EVENTS.name)).state.first_seq).toBe(WATCH_BLOCK + 10);
    // Within the block it is forgetting now, an event before its first is lost as soon.
    const partlyLost = retry(2);
    await watch.watch(WATCH_BLOCK + 9, partlyLost, null);

    // Forgotten since the last run: not judged yet (a retry that came just then has a run to end).
    await expect(sweeper.sweep()).resolves.toBe(0);
    await expect(sweeper.sweep()).resolves.toBe(2);
    const letter = await letters.findOne({ _id: lost.eventId as never }).lean();
    expect(letter).toMatchObject({
      accountId: ACCOUNT,
      sessionId: lost.callback.sessionId,
      eventName: 'SessionTimeout',
      reason: LOST_BEFORE_RETRY,
      attempts: 3,
      url: lost.url,
      at: new Date(lost.failedAt),
      replayedAt: null,
    });
    expect(await letters.findOne({ _id: partlyLost.eventId as never }).lean()).toMatchObject({
      reason: LOST_BEFORE_RETRY,
    });
    expect(await letters.countDocuments({ accountId: ACCOUNT })).toBe(2);
    // What it judged is gone; the watches of events still held stay.
    expect(await watch.ofBlock(0)).toEqual({ entries: [], complete: true });
    expect((await watch.ofBlock(1)).entries.map((e) => e.streamSequence)).toEqual([heldAt]);
    // A listing cut short says so (the sweep never passes such a block).
    expect(await watch.ofBlock(1, Infinity, 0)).toEqual({ entries: [], complete: false });
    expect((await watch.ofBlock(3)).entries.map((e) => e.retry?.eventId)).toEqual([later.eventId]);
    // Where it goes on is a bare block number, as the release before this one reads it in a rollout.
    const raw = await (await nc.jetstream().views.kv(RETRY_WATCH_BUCKET)).get('cursor');
    expect(JSON.parse(new TextDecoder().decode(raw!.value))).toBe(1);
    // Once is enough: a second pass finds nothing.
    await expect(sweeper.sweep()).resolves.toBe(0);
    expect(await letters.countDocuments({ accountId: ACCOUNT })).toBe(2);
  });

  it('leaves a letter its callback ended in as it is (its watch outlived it), and rewrites a replayed letter whose replay was lost', async () => {
    const watch = app.get(LostRetryWatch);
    const deadLetters = app.get(DeadLetters);
    // Ended in a dead letter (410), its watch left (NATS did not take its removal).
    const ended = retry(3);
    await deadLetters.record(letterOf(ended, 'HTTP 410', null));
    // Dead-lettered, replayed, and the replay's retry lost (its watch is the replay's).
    const replayed = { ...retry(1), attemptKey: '' };
    replayed.attemptKey = `${replayed.eventId}.r.1`;
    await deadLetters.record(letterOf(replayed, 'HTTP 503', null));
    await deadLetters.markReplayed({ _id: replayed.eventId, accountId: ACCOUNT }, new Date());
    // Both of events the stream forgot (before the first it holds, at the last run and now).
    await watch.watch(WATCH_BLOCK + 1, ended, null);
    await watch.watch(WATCH_BLOCK + 2, replayed, null);

    await expect(app.get(LostRetrySweeper).sweep()).resolves.toBe(1);
    expect(await letters.findOne({ _id: ended.eventId as never }).lean()).toMatchObject({
      reason: 'HTTP 410',
    });
    expect(await letters.findOne({ _id: replayed.eventId as never }).lean()).toMatchObject({
      reason: LOST_BEFORE_RETRY,
      replayedAt: null,
    });
    expect(await watch.of(WATCH_BLOCK + 1)).toBeNull();
    expect(await watch.of(WATCH_BLOCK + 2)).toBeNull();
  });

  it('does not mark replayed a letter whose replay failed, and wrote it again, before the mark landed', async () => {
    const deadLetters = app.get(DeadLetters);
    const r = retry(7);
    const letter = letterOf(r, 'HTTP 503', null);
    await deadLetters.record(letter);
    const read = await letters.findOne({ _id: r.eventId as never }).lean();
    // Its replay is published, and fails at once (its session gone): the letter written again…
    await deadLetters.record({
      ...letter,
      reason: 'session no longer exists',
      at: new Date(r.failedAt + 60_000),
    });
    // …before the replay's mark lands: not marked over, still replayable.
    await expect(deadLetters.markReplayed(read as never, new Date())).resolves.toBe(false);
    expect(await letters.findOne({ _id: r.eventId as never }).lean()).toMatchObject({
      reason: 'session no longer exists',
      replayedAt: null,
    });
    // A letter read as it stands is marked.
    const now = await letters.findOne({ _id: r.eventId as never }).lean();
    await expect(deadLetters.markReplayed(now as never, new Date())).resolves.toBe(true);
  });

  it('lets one subaccount’s callbacks take at most its share of its account’s watches: its main account’s still go in', async () => {
    const watch = app.get(LostRetryWatch);
    const { burst } = watch.allowanceRule;
    const account = 'MAWATCHRESELLER00001';
    const of = (subaccountId: string | null): WatchedRetry => {
      const r = retry(1);
      return { ...r, subaccountId, callback: { ...r.callback, accountId: account } };
    };
    // Far past every event the other tests published: no sweep there reads these.
    let seq = 60 * WATCH_BLOCK;
    const failing = 'SAWATCHFAILING000001';
    const share = subaccountShare(burst);
    const written: boolean[] = [];
    for (let i = 0; i <= share; i++) written.push(await watch.watch(++seq, of(failing), null));
    expect(written.filter(Boolean)).toHaveLength(share);
    expect(written.at(-1)).toBe(false);
    // Its main account's own callbacks, and a sibling's, still have the rest of the account's.
    await expect(watch.watch(++seq, of(null), null)).resolves.toBe(true);
    await expect(watch.watch(++seq, of('SAWATCHSIBLING000001'), null)).resolves.toBe(true);
  });

  it('lets one account’s callbacks take at most their share of the watches; another account’s, and a watch written again, still go in', async () => {
    const watch = app.get(LostRetryWatch);
    const { burst } = watch.allowanceRule;
    const of = (accountId: string): WatchedRetry => {
      const r = retry(1);
      return { ...r, callback: { ...r.callback, accountId } };
    };
    // Far past every event the other test published: the sweep there never reads these.
    let seq = 40 * WATCH_BLOCK;
    const flooder = 'MAWATCHFLOOD00000001';
    const written: boolean[] = [];
    for (let i = 0; i < burst; i++) written.push(await watch.watch(++seq, of(flooder), null));
    expect(written.every(Boolean)).toBe(true);
    await expect(watch.watch(++seq, of(flooder), null)).resolves.toBe(false);
    expect(await watch.of(seq)).toBeNull();
    // Written again (an attempt failed since): not a new entry, not refused.
    const earlier = (await watch.of(seq - 1))!;
    await expect(watch.watch(seq - 1, { ...earlier.retry!, attempts: 2 }, earlier)).resolves.toBe(true);
    expect((await watch.of(seq - 1))?.retry?.attempts).toBe(2);
    await expect(watch.watch(++seq, of('MAWATCHOTHER00000001'), null)).resolves.toBe(true);
    // Its places do not come back when its watches go (they refill over a watch's lifetime).
    await watch.forget([(await watch.of(40 * WATCH_BLOCK + 1))!]);
    await expect(watch.watch(++seq, of(flooder), null)).resolves.toBe(false);
    // A watch as big as three (a long callback URL) takes three places of its account's share.
    const big = {
      ...of('MAWATCHBIGURL0000001'),
      url: `http://127.0.0.1:9/${'x'.repeat(2 * NATS_RECORD_BYTES.callbackRetryWatches)}`,
    };
    const places = Math.ceil(
      new TextEncoder().encode(JSON.stringify(big)).length / NATS_RECORD_BYTES.callbackRetryWatches,
    );
    expect(places).toBe(3);
    for (let i = 0; i < Math.floor(burst / places); i++) {
      await expect(watch.watch(++seq, big, null)).resolves.toBe(true);
    }
    await expect(watch.watch(++seq, big, null)).resolves.toBe(false);
  });
});
