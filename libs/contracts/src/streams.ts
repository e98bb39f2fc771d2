import type { StreamName } from './contract';
import type { NatsStore } from './common/nats-storage-budget';

export interface StreamDefinition {
  name: StreamName;
  subjects: string[];
  /** How long JetStream remembers a Nats-Msg-Id for publish dedupe. */
  duplicateWindowMs: number;
  /** Events older than this are discarded by the server. */
  maxAgeMs: number;
  /** Its share of NATS's storage: past it, the server discards the oldest events first. */
  storageShare: NatsStore;
}

/** Every durable event lives on one stream; consumers filter by subject. */
export const STREAMS: Record<StreamName, StreamDefinition> = {
  MASKLINE_EVENTS: {
    name: 'MASKLINE_EVENTS',
    subjects: ['events.>'],
    duplicateWindowMs: 10 * 60 * 1000,
    maxAgeMs: 7 * 24 * 60 * 60 * 1000,
    storageShare: 'events',
  },
};
