import pino from 'pino';
import { connect, type NatsConnection } from 'nats';
import { KeyValueStores, type MessagingOptions } from '@maskline/messaging';
import type { RunningProcess } from '../../../deploy/local/infra.cjs';
import { TEST_NATS_STORAGE_BYTES } from './test-config';
import { startTestNats } from './test-infra';

/** A real NATS server and replicas of one service on it, each on its own connection: they share only the buckets. */
export interface KvReplicas {
  nats: RunningProcess;
  /** The replicas' connections, in the order they were made (a test may close one: NATS gone for it). */
  connections: readonly NatsConnection[];
  /** One more replica: its connection and its KV stores (`storageBytes`, `memoryBytes`: NATS_STORAGE_BYTES and NATS_MEMORY_BYTES as they are set). */
  replica(options?: {
    storageBytes?: number;
    memoryBytes?: number;
  }): Promise<{ nc: NatsConnection; kv: KeyValueStores }>;
  /** Closes every replica's connection (those still open) and stops the server. */
  stop(): Promise<void>;
}

/** For tests of what replicas agree on through NATS KV (claims, turns, shared limits). */
export async function startKvReplicas(service: string): Promise<KvReplicas> {
  const nats = await startTestNats();
  const connections: NatsConnection[] = [];
  return {
    nats,
    connections,
    async replica(options = {}) {
      const nc = await connect({ servers: nats.url });
      connections.push(nc);
      const kv = new KeyValueStores(
        nc,
        { service, servers: nats.url, storageBytes: TEST_NATS_STORAGE_BYTES, ...options } as MessagingOptions,
        pino({ level: 'silent' }),
      );
      return { nc, kv };
    },
    async stop() {
      await Promise.all(connections.filter((nc) => !nc.isClosed()).map((nc) => nc.close()));
      await nats.stop();
    },
  };
}

/**
 * `startKvReplicas` for a whole jest suite: started before its tests, stopped after them. The
 * returned replicas may be used from the tests (not while the suite is being defined).
 */
export function kvReplicasForSuite(service: string): Omit<KvReplicas, 'stop'> {
  let started: KvReplicas | undefined;
  beforeAll(async () => {
    started = await startKvReplicas(service);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const running = (): KvReplicas => {
    if (!started) throw new Error('the KV replicas start before the suite’s tests, not while it is defined');
    return started;
  };
  return {
    get nats() {
      return running().nats;
    },
    get connections() {
      return running().connections;
    },
    replica: (options) => running().replica(options),
  };
}
