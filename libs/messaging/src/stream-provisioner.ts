import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { STREAMS, natsStorageBound, type StreamDefinition } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { retryWhileJetStreamUnavailable } from './jetstream-retry';
import { isStorageReservationRefused, storageReservationError } from './storage-reservation';
import {
  MESSAGING_OPTIONS,
  NATS_CONNECTION,
  natsCapacityOf,
  type MessagingOptions,
} from './messaging.options';

/** Creates (or updates) every stream the contracts define; safe to run from every replica at once. */
@Injectable()
export class StreamProvisioner implements OnModuleInit {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const stream of Object.values(STREAMS)) {
      await retryWhileJetStreamUnavailable(`stream ${stream.name}`, this.logger, () => this.ensure(stream));
    }
  }

  async ensure(def: StreamDefinition): Promise<void> {
    const { storageBytes } = natsCapacityOf(this.options);
    const bound = natsStorageBound(def.storageShare, storageBytes);
    try {
      await this.ensureBounded(def, bound);
    } catch (err) {
      // Not run unbounded: one tenant's traffic could fill NATS for every tenant.
      if (!isStorageReservationRefused(err)) throw err;
      throw storageReservationError(`stream ${def.name}`, def.storageShare, bound, storageBytes);
    }
  }

  private async ensureBounded(def: StreamDefinition, maxBytes: number): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    const config = {
      name: def.name,
      subjects: def.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(def.duplicateWindowMs),
      max_age: nanos(def.maxAgeMs),
      max_bytes: maxBytes,
      num_replicas: this.options.streamReplicas ?? 1,
    };
    try {
      await jsm.streams.info(def.name);
      // A stream made before it had a bound gets one, and forgets its oldest when full.
      await jsm.streams.update(def.name, {
        subjects: config.subjects,
        duplicate_window: config.duplicate_window,
        max_age: config.max_age,
        max_bytes: config.max_bytes,
        discard: config.discard,
      });
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
      try {
        await jsm.streams.add(config);
        this.logger.info({ stream: def.name }, 'created stream');
      } catch (addErr) {
        // Another replica created it between our info and add.
        if (!String((addErr as Error).message).includes('already in use')) throw addErr;
      }
    }
  }
}

function isStreamNotFound(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || /stream not found/i.test(e?.message ?? '');
}
