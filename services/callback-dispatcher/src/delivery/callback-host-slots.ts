import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { KeyValueStores, SharedSlots } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { Bulkheads } from '@maskline/resilience';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';

/** Per owner (an account, or each of its subaccounts) and host, the callback attempts in flight across replicas. */
export const HOST_SLOTS_BUCKET = 'maskline-callback-host-slots';

/**
 * How long an attempt waits in this replica for a turn at its host when this replica's attempts
 * take every one of the host's slots (at most `hostWaitersMax` wait). Refused at once, the attempts of
 * an account whose callbacks all go to one host (its turns are twice the host's) came back again
 * and again, each decoded, looked up and refused anew, with up to twice the host's slots read in
 * KV for each refusal: in a soak at 10 sessions a second the dispatcher fell thousands behind with
 * CPU to spare, most of its handled events refused redeliveries.
 */
export const HOST_TURN_WAIT_MS = 2000;

/**
 * How many of an account's attempts may wait here for a turn at one host: a host's turns and its
 * waiters hold the account's turns (they are taken inside one), so together they leave at least a
 * quarter of the account's turns to its other hosts (4 with the defaults: 16 turns an account, 8 a host).
 */
export function hostWaitersMax(accountTurns: number, hostTurns: number): number {
  return Math.max(0, accountTurns - hostTurns - Math.ceil(accountTurns / 4));
}

/**
 * CALLBACK_PER_HOST_CONCURRENCY attempts in flight per owner (an account, or each of its subaccounts)
 * and destination host, across every
 * dispatcher replica: a customer's endpoint is not hit harder because the dispatcher scaled out.
 * This replica's own attempts take turns first (waiting up to HOST_TURN_WAIT_MS), so the shared
 * slots in KV refuse only what another replica holds.
 */
@Injectable()
export class CallbackHostSlots {
  private readonly slots: SharedSlots;
  private readonly turns: Bulkheads;

  constructor(
    kv: KeyValueStores,
    @Inject(CALLBACK_DISPATCHER_CONFIG) config: CallbackDispatcherConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.turns = new Bulkheads(config.CALLBACK_PER_HOST_CONCURRENCY, Date.now, {
      maxWaiting: hostWaitersMax(
        config.CALLBACK_PER_ACCOUNT_CONCURRENCY,
        config.CALLBACK_PER_HOST_CONCURRENCY,
      ),
    });
    this.slots = new SharedSlots(kv, {
      bucket: HOST_SLOTS_BUCKET,
      limit: config.CALLBACK_PER_HOST_CONCURRENCY,
      // Longer than any attempt holds one (signing, connect, the answer).
      slotTtlMs: 2 * (config.CALLBACK_CONNECT_TIMEOUT_MS + config.CALLBACK_TIMEOUT_MS) + 10_000,
      onReleaseError: (err) =>
        logger.warn({ err }, 'a callback host slot could not be given back; it frees itself by TTL'),
    });
  }

  async run<T>(
    hostKey: string,
    work: () => Promise<T>,
  ): Promise<{ admitted: true; value: T } | { admitted: false }> {
    const ran = await this.turns.run(hostKey, () => this.slots.run(hostKey, work), {
      waitMs: HOST_TURN_WAIT_MS,
    });
    return ran.admitted ? ran.value : ran;
  }
}
