import type { BreakerSettings } from '@maskline/resilience';
import {
  DEFAULT_NATS_MEMORY_BYTES,
  DEFAULT_NATS_STORAGE_BYTES,
  type HistoryReadKind,
  type ServiceName,
} from '@maskline/contracts';

export interface MessagingOptions {
  /** This service's name: its NATS connection name and the queue group of its RPC handlers. */
  service: ServiceName;
  /** NATS server URLs (comma-separated string or list). */
  servers: string | string[];
  /** Default timeout for outgoing requests. */
  rpcTimeoutMs: number;
  /** Breaker settings for calls to other services. */
  breaker: Partial<BreakerSettings>;
  /** How long shutdown waits for in-flight handlers. */
  shutdownGraceMs: number;
  /** Requests that read history answered at once, per main account and in all, by kind (see `HistoryReadAdmission`). */
  historyReads: Record<HistoryReadKind, { perAccount: number; inFlight: number }>;
  /** JetStream stream replicas when this service creates a stream (3 on a NATS cluster). */
  streamReplicas?: number;
  /**
   * How much JetStream file storage Maskline may fill on each NATS node (`NATS_STORAGE_BYTES`):
   * the stream and buckets with a share of it (`NATS_STORAGE_SHARES`) are bounded by their share.
   * `DEFAULT_NATS_STORAGE_BYTES` when unset.
   */
  storageBytes?: number;
  /**
   * How much memory each NATS node has (`NATS_MEMORY_BYTES`): the buckets with a share of it
   * (`NATS_MEMORY_SHARES`) hold at most that share's worth of keys. `DEFAULT_NATS_MEMORY_BYTES` when unset.
   */
  memoryBytes?: number;
}

/** What each NATS node has for Maskline, as `options` say it or by default. */
export function natsCapacityOf(options: MessagingOptions): { storageBytes: number; memoryBytes: number } {
  return {
    storageBytes: options.storageBytes ?? DEFAULT_NATS_STORAGE_BYTES,
    memoryBytes: options.memoryBytes ?? DEFAULT_NATS_MEMORY_BYTES,
  };
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
