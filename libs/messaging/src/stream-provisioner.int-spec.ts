import { connect, DiscardPolicy, RetentionPolicy, StorageType, nanos, type NatsConnection } from 'nats';
import pino from 'pino';
import { NATS_STORAGE_SHARES, STREAMS, natsStorageBound } from '@maskline/contracts';
import { startTestNats, type RunningProcess } from '@maskline/testing';
import { MetricsService } from '@maskline/observability';
import { EventRetention } from './event-retention';
import type { MessagingOptions } from './messaging.options';
import { StreamProvisioner } from './stream-provisioner';

const EVENTS = STREAMS.MASKLINE_EVENTS;

describe('the event stream, bounded by its share of NATS storage (real NATS)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;

  beforeEach(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
  });

  afterEach(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const provisioner = (storageBytes: number) =>
    new StreamProvisioner(
      nc,
      { service: 'session-service', servers: nats.url, storageBytes } as MessagingOptions,
      pino({ level: 'silent' }),
    );

  /** What one tenant's flood of its own texts publishes: ~1 KB events, each with its own id. */
  const flood = async (count: number, from = 0) => {
    const js = nc.jetstream();
    const body = 'x'.repeat(1000);
    for (let i = from; i < from + count; i++) {
      const ack = await js.publish(`events.message.received.v1`, new TextEncoder().encode(body), {
        msgID: `flood-${i}`,
      });
      expect(ack.duplicate).toBe(false);
    }
  };

  it('takes every event past its share, forgetting the oldest first, so a flood never stops publishing for anyone', async () => {
    const storageBytes = 1024 * 1024;
    await provisioner(storageBytes).ensure(EVENTS);
    const jsm = await nc.jetstreamManager();
    const bound = natsStorageBound('events', storageBytes);
    const { config } = await jsm.streams.info(EVENTS.name);
    expect(config.max_bytes).toBe(bound);
    expect(config.discard).toBe(DiscardPolicy.Old);

    // Three times what the share holds: every publish is taken (a stream that refused, or a volume
    // filled, would stop every tenant's events).
    await flood(2000);
    const { state } = await jsm.streams.info(EVENTS.name);
    expect(state.bytes).toBeLessThanOrEqual(bound);
    expect(state.last_seq).toBe(2000);
    // The oldest were forgotten; the newest are still there for consumers behind.
    expect(state.first_seq).toBeGreaterThan(1000);
    await expect(jsm.streams.getMessage(EVENTS.name, { seq: 2000 })).resolves.toMatchObject({ seq: 2000 });
    await expect(jsm.streams.getMessage(EVENTS.name, { seq: 1 })).rejects.toThrow(/no message found/);
    // What it remembers is now seconds, not its 7 days: a retry a minute out is no longer trusted
    // to it (a consumer ends the event with an outcome instead), one due at once still is.
    const retention = new EventRetention(
      nc,
      pino({ level: 'silent' }),
      new MetricsService('session-service'),
    );
    await retention.read();
    expect(retention.keeps(new Date(), 60_000)).toBe(false);
    expect(retention.keeps(new Date(), 0)).toBe(true);
    // And a redelivered webhook's event is still taken once within the duplicate window.
    const again = await nc
      .jetstream()
      .publish('events.message.received.v1', new Uint8Array(), { msgID: 'flood-1999' });
    expect(again.duplicate).toBe(true);
  });

  it('gives a stream made by an earlier release, without a bound, its bound and keeps what it holds', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: EVENTS.name,
      subjects: EVENTS.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_age: nanos(EVENTS.maxAgeMs),
    });
    await flood(10);
    const storageBytes = 1024 * 1024;
    await provisioner(storageBytes).ensure(EVENTS);
    const { config, state } = await jsm.streams.info(EVENTS.name);
    expect(config.max_bytes).toBe(natsStorageBound('events', storageBytes));
    expect(config.discard).toBe(DiscardPolicy.Old);
    expect(state.messages).toBe(10);
    // Ten events in a bound of 512 KiB: it remembers its whole age limit, and a day's retry is trusted.
    const retention = new EventRetention(
      nc,
      pino({ level: 'silent' }),
      new MetricsService('session-service'),
    );
    await retention.read();
    expect(retention.keeps(new Date(), 24 * 3_600_000)).toBe(true);
    await flood(2000, 10);
    expect((await jsm.streams.info(EVENTS.name)).state.bytes).toBeLessThanOrEqual(config.max_bytes);
  });

  it('does not start, and says which setting to change, when NATS cannot reserve the share', async () => {
    const storageBytes = 1024 ** 5;
    await expect(provisioner(storageBytes).ensure(EVENTS)).rejects.toThrow(
      `NATS refuses to reserve ${natsStorageBound('events', storageBytes)} bytes for stream MASKLINE_EVENTS (${NATS_STORAGE_SHARES.events} % of NATS_STORAGE_BYTES=${storageBytes})`,
    );
    // Nothing was made unbounded in its place.
    const jsm = await nc.jetstreamManager();
    await expect(jsm.streams.info(EVENTS.name)).rejects.toThrow(/stream not found/);
  });
});
