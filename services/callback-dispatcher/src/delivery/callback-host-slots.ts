import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { KeyValueStores, SharedSlots } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';

/** Per account and host, the callback attempts in flight across replicas. */
export const HOST_SLOTS_BUCKET = 'maskline-callback-host-slots';

/**
 * CALLBACK_PER_HOST_CONCURRENCY attempts in flight per account and destination host, across every
 * dispatcher replica: a customer's endpoint is not hit harder because the dispatcher scaled out.
 */
@Injectable()
export class CallbackHostSlots {
  private readonly slots: SharedSlots;

  constructor(
    kv: KeyValueStores,
    @Inject(CALLBACK_DISPATCHER_CONFIG) config: CallbackDispatcherConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.slots = new SharedSlots(kv, {
      bucket: HOST_SLOTS_BUCKET,
      limit: config.CALLBACK_PER_HOST_CONCURRENCY,
      // Longer than any attempt holds one (signing, connect, the answer).
      slotTtlMs: 2 * (config.CALLBACK_CONNECT_TIMEOUT_MS + config.CALLBACK_TIMEOUT_MS) + 10_000,
      onReleaseError: (err) =>
        logger.warn({ err }, 'a callback host slot could not be given back; it frees itself by TTL'),
    });
  }

  run<T>(hostKey: string, work: () => Promise<T>) {
    return this.slots.run(hostKey, work);
  }
}
