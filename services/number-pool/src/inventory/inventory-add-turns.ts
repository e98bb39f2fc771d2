import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SharedSlots } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';

/** One KV slot per main account adding numbers (its subaccounts share it: they share its cap). */
export const INVENTORY_ADD_TURN_BUCKET = 'maskline-inventory-add-turns';
/**
 * A turn whose holder died (a replica killed mid-add) frees itself after this; until then the
 * account's adds answer 409. Far longer than an add holds it (the provider's answers, 5 s at most,
 * then a store read and write per number, at most 100 numbers); a live holder renews it (TURN_RENEW_MS) in case its store stalls, since a
 * turn lapsing under a live holder would let a second count in.
 */
const TURN_TTL_MS = 60_000;
const TURN_RENEW_MS = TURN_TTL_MS / 4;
/** One KV read or write of a turn. */
const TURN_KV_OP_MS = 2000;

/**
 * An account's adds of numbers, one at a time across every replica: each counts the inventory as
 * the add before it left it, so that adds sent at once cannot together pass
 * NUMBERS_PER_ACCOUNT_MAX (each counted what was there before any of them, and up to 100 numbers
 * per add in flight went past the cap).
 */
@Injectable()
export class InventoryAddTurns {
  private readonly slots: SharedSlots;

  constructor(
    kv: KeyValueStores,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.slots = new SharedSlots(kv, {
      bucket: INVENTORY_ADD_TURN_BUCKET,
      limit: 1,
      slotTtlMs: TURN_TTL_MS,
      opTimeoutMs: TURN_KV_OP_MS,
      renewEveryMs: TURN_RENEW_MS,
      onReleaseError: (err) =>
        logger.warn({ err }, "an account's add turn could not be given back; it frees itself by TTL"),
      onRenewError: (err) =>
        logger.warn({ err }, "an account's add turn could not be renewed; another add may count at once"),
    });
  }

  /**
   * `add` run in the account's turn, waited for up to half of RPC_TIMEOUT_MS (the caller of an add
   * waits PROVIDER_ASK_TIMEOUT_MS, for the provider's answers the add asks for in its turn);
   * CONFLICT (retryable) when it stayed taken. Fails as NATS KV does: without KV no number is added.
   */
  async during<T>(accountId: string, add: () => Promise<T>): Promise<T> {
    const run = await this.slots.runWhenFree(accountId, add, { withinMs: this.config.RPC_TIMEOUT_MS / 2 });
    if (run.admitted) return run.value;
    throw new CodedError(
      ErrorCodes.CONFLICT,
      'another request is adding numbers to this account; try again',
      {
        retryable: true,
      },
    );
  }
}
