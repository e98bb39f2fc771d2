import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { connect, type KV, type NatsConnection } from 'nats';
import { KeyValueStores, kvEncode, kvToken } from './key-value-stores';
import type { MessagingOptions } from './messaging.options';
import { captureLogger, expectEventually, startTestNats, type RunningProcess } from '@maskline/testing';
import { KvMirror, type KvMirrorOptions } from './kv-mirror';

describe('KvMirror: a replica-local copy of a KV bucket (real NATS KV)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let stores: KeyValueStores;
  const mirrors: Array<KvMirror<unknown>> = [];
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    stores = new KeyValueStores(nc, { service: 'pin-auth', servers: nats.url } as MessagingOptions, logger);
  });

  afterAll(async () => {
    for (const m of mirrors) m.stop();
    await nc?.close();
    await nats?.stop();
  });

  const mirrorOf = <T>(
    kv: KV,
    changes: Array<[string, T | undefined]> = [],
    readFromLeader?: KvMirrorOptions['readFromLeader'],
  ) => {
    const m = new KvMirror<T>(
      async () => kv,
      { what: 'test', catchUpTimeoutMs: 10_000, readFromLeader },
      logger,
      (key, now) => changes.push([key, now]),
    );
    mirrors.push(m as KvMirror<unknown>);
    return m;
  };

  it('holds everything the bucket held once start() resolves, and follows later writes', async () => {
    const kv = await stores.bucket(`test-mirror-${randomUUID()}`);
    for (let i = 0; i < 300; i++) await kv.put(`k.${i}`, kvEncode({ i }));
    await kv.delete('k.7');
    const mirror = mirrorOf<{ i: number }>(kv);
    await mirror.start();
    // Nothing awaited after start(): the copy is complete when it says it is ready.
    expect(mirror.ready).toBe(true);
    expect(mirror.size).toBe(299);
    expect(mirror.get('k.299')?.value).toEqual({ i: 299 });
    expect(mirror.get('k.7')).toBeUndefined();

    const revision = await kv.put('k.7', kvEncode({ i: 7 }));
    await kv.delete('k.8');
    const last = await kv.put('k.9', kvEncode({ i: 90 }));
    await mirror.until(last);
    expect(mirror.get('k.7')).toEqual({ value: { i: 7 }, revision });
    expect(mirror.get('k.8')).toBeUndefined();
    expect(mirror.get('k.9')?.value).toEqual({ i: 90 });
  });

  it('skips an unreadable entry, logging neither its key past the first token nor any of its value', async () => {
    const kv = await stores.bucket(`test-mirror-${randomUUID()}`);
    const phone = '+14155559114';
    await kv.put(`caller.MA1.${kvToken(phone)}`, new TextEncoder().encode(`${phone} not json`));
    await kv.put('caller.MA1.ok', kvEncode({ i: 1 }));
    const logs = captureLogger('kv-mirror-test');
    const m = new KvMirror<unknown>(async () => kv, { what: 'test', catchUpTimeoutMs: 10_000 }, logs.logger);
    mirrors.push(m);
    await m.start();
    expect(m.size).toBe(1);
    expect(logs.records().filter((r) => r.level === 'error')).toEqual([
      expect.objectContaining({ msg: 'unreadable KV entry skipped', keyKind: 'caller' }),
    ]);
    const text = logs.lines.join('\n');
    expect(text).not.toContain(kvToken(phone));
    expect(text).not.toContain('14155559114');
  });

  it('loads a bucket whose latest write was a delete since purged (a quiet night after a release)', async () => {
    const kv = await stores.bucket(`test-mirror-${randomUUID()}`);
    await kv.put('a', kvEncode('kept'));
    await kv.put('b', kvEncode('released'));
    await kv.delete('b');
    const purger = mirrorOf<string>(kv);
    await purger.purgeOldDeletes(0);
    const mirror = mirrorOf<string>(kv);
    await mirror.start();
    expect([...mirror.values()].map(([key, { value }]) => [key, value])).toEqual([['a', 'kept']]);
  });

  it('reads its own writes at once, and an older write arriving later never replaces a newer one', async () => {
    const kv = await stores.bucket(`test-mirror-${randomUUID()}`);
    const changes: Array<[string, string | undefined]> = [];
    const mirror = mirrorOf<string>(kv, changes);
    await mirror.start();
    // This replica wrote 'mine' after 'old' (as a compare-and-set on it would): the watch brings 'old' later.
    const old = await kv.put('a', kvEncode('old'));
    mirror.applyOwnWrite('a', 'mine', old + 1);
    await mirror.until(old);
    expect(mirror.get('a')).toEqual({ value: 'mine', revision: old + 1 });
    expect(changes.filter(([, v]) => v === 'old').length).toBeLessThanOrEqual(1);
    expect(changes[changes.length - 1]).toEqual(['a', 'mine']);

    // A conditional delete this replica made: gone at once, and the put it replaced cannot return.
    const current = await kv.put('b', kvEncode('live'));
    await kv.delete('b', { previousSeq: current });
    mirror.applyOwnWrite('b', null, current);
    expect(mirror.get('b')).toBeUndefined();
    await mirror.until(current);
    expect(mirror.get('b')).toBeUndefined();
    const again = await kv.create('b', kvEncode('again'));
    await mirror.until(again);
    expect(mirror.get('b')?.value).toBe('again');
  });

  it('after a lost compare-and-set, takes the leader’s entry over one the leader does not hold, and loads the whole copy again', async () => {
    const name = `test-mirror-${randomUUID()}`;
    const kv = await stores.bucket(name);
    const changes: Array<[string, string | undefined]> = [];
    const mirror = mirrorOf<string>(kv, changes, (key) => stores.leaderEntry(name, key));
    await mirror.start();
    const a = await kv.put('pin.a', kvEncode('live'));
    const b = await kv.put('pin.b', kvEncode('live too'));
    await mirror.until(b);
    // The copy believes what the bucket never held (as a watch served by a replica that disagreed
    // with its leader after a crash delivered it): every compare-and-set against it fails.
    mirror.applyOwnWrite('pin.a', 'phantom', b + 1000);
    mirror.applyOwnWrite('pin.b', 'phantom', b + 1001);
    await expect(kv.delete('pin.a', { previousSeq: mirror.get('pin.a')!.revision })).rejects.toMatchObject({
      api_error: { err_code: 10071 },
    });
    await mirror.refresh('pin.a');
    // The key is the leader's at once, and the rest of the copy is loaded again.
    expect(mirror.get('pin.a')).toEqual({ value: 'live', revision: a });
    expect(mirror.ready).toBe(false);
    await expectEventually(() => expect(mirror.ready).toBe(true));
    expect(mirror.get('pin.b')).toEqual({ value: 'live too', revision: b });
    expect(changes).toContainEqual(['pin.b', undefined]);
    await kv.delete('pin.a', { previousSeq: mirror.get('pin.a')!.revision });

    const c = b + 1000;
    // A key the leader holds nothing under leaves the copy; an unknown key stays unknown.
    mirror.applyOwnWrite('pin.d', 'phantom', c + 1000);
    await mirror.refresh('pin.d');
    expect(mirror.get('pin.d')).toBeUndefined();
    await mirror.refresh('pin.e');
    expect(mirror.get('pin.e')).toBeUndefined();
  });

  it('a copy loaded again under a refresh of another key still takes that refresh’s answer', async () => {
    const name = `test-mirror-${randomUUID()}`;
    const kv = await stores.bucket(name);
    const b = await kv.put('pin.b', kvEncode('live'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const mirror: KvMirror<string> = mirrorOf<string>(kv, [], async (key) => {
      const entry = await stores.leaderEntry(name, key);
      if (key === 'pin.b') await gate;
      return entry;
    });
    await mirror.start();
    const reading = mirror.refresh('pin.b');
    mirror.applyOwnWrite('pin.a', 'phantom', b + 1000);
    await mirror.refresh('pin.a'); // the copy is dropped and loaded again meanwhile
    release();
    await reading;
    expect(mirror.get('pin.b')).toEqual({ value: 'live', revision: b });
    await expectEventually(() => expect(mirror.ready).toBe(true));
    expect(mirror.get('pin.b')).toEqual({ value: 'live', revision: b });
  });

  it('a refresh yields to what reached the copy while it read: a write, or a delete', async () => {
    const name = `test-mirror-${randomUUID()}`;
    const kv = await stores.bucket(name);
    const first = await kv.put('k', kvEncode('first'));
    const gone = await kv.put('g', kvEncode('about to go'));
    let during: (() => Promise<void>) | undefined;
    const mirror: KvMirror<string> = mirrorOf<string>(kv, [], async (key) => {
      const entry = await stores.leaderEntry(name, key);
      await during?.();
      return entry;
    });
    await mirror.start();
    // This replica's own write lands while the leader's answer is on its way back.
    during = async () => mirror.applyOwnWrite('k', 'written meanwhile', first + 1);
    await mirror.refresh('k');
    expect(mirror.get('k')).toEqual({ value: 'written meanwhile', revision: first + 1 });
    // The watch brings a committed delete meanwhile: the answer read before it does not bring the key back.
    during = async () => {
      await kv.delete('g', { previousSeq: gone });
      await expectEventually(() => expect(mirror.get('g')).toBeUndefined());
    };
    await mirror.refresh('g');
    expect(mirror.get('g')).toBeUndefined();
    expect(mirror.ready).toBe(true);
  });

  it('loads again after its watch ends, with what changed meanwhile (purged deletes too), reading the bucket until then', async () => {
    const kv = await stores.bucket(`test-mirror-${randomUUID()}`);
    await kv.put('x', kvEncode(1));
    await kv.put('y', kvEncode(1));
    const mirror = mirrorOf<number>(kv);
    await mirror.start();
    (mirror as unknown as { iterator: { stop(): void } }).iterator.stop();
    await expectEventually(() => expect(mirror.ready).toBe(false), { intervalMs: 5 });
    await kv.put('x', kvEncode(2));
    await kv.delete('y');
    // The delete's marker is purged before the copy loads again: it must notice 'y' is gone anyway.
    await mirror.purgeOldDeletes(0);
    const last = await kv.put('z', kvEncode(3));
    await mirror.refresh('x');
    expect(mirror.get('x')?.value).toBe(2);
    await expectEventually(() => expect(mirror.ready).toBe(true));
    await mirror.until(last);
    expect([...mirror.values()].map(([key, { value }]) => [key, value])).toEqual([
      ['x', 2],
      ['z', 3],
    ]);
  });
});
