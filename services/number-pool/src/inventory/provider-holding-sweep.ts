import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, PoolErrorCodes } from '@maskline/contracts';
import { decryptSecret } from '@maskline/crypto';
import { SweepTurns } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import { InventoryService } from './inventory.service';
import { holdingConfirmed, holdingToAsk, type ProviderHoldingRecord } from './provider-holding';
import { ProviderHoldingClient } from './provider-holding.client';
import { VirtualNumberRepository } from './virtual-number.repository';

/** Numbers one run asks about at most: a provider is never asked in a burst. */
export const HOLDING_SWEEP_BATCH = 200;

/**
 * Every PROVIDER_HOLDING_SWEEP_INTERVAL_MS, on the replica that takes the interval's turn: the
 * providers are asked about the numbers with credentials they were never asked about as they are
 * now (stored before the question was asked, or by an older release during an upgrade), or were
 * asked about PROVIDER_HOLDING_REASK_AFTER_MS ago or more (a number its account released at the
 * provider may since be a person's phone). Until asked, a number is not taken for Maskline's own.
 * Reads the inventory (bounded by NUMBERS_PER_ACCOUNT_MAX per account, not by history).
 */
@Injectable()
export class ProviderHoldingSweep extends PeriodicTask {
  constructor(
    private readonly numbers: VirtualNumberRepository,
    private readonly holding: ProviderHoldingClient,
    private readonly inventory: InventoryService,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    turns: SweepTurns,
  ) {
    super(
      'provider holding sweep',
      config.PROVIDER_HOLDING_SWEEP_INTERVAL_MS,
      logger,
      turns.turnsOf('provider-holding-sweep', config.PROVIDER_HOLDING_SWEEP_INTERVAL_MS, clock),
    );
  }

  /** The numbers asked about, and how many the providers confirmed. */
  async sweep(): Promise<{ asked: number; confirmed: number }> {
    const now = this.clock();
    const due = (await this.numbers.withCredentialsSystemWide())
      .filter((n) => holdingToAsk(n, now, this.config.PROVIDER_HOLDING_REASK_AFTER_MS))
      .slice(0, HOLDING_SWEEP_BATCH);
    let confirmed = 0;
    for (const n of due) {
      const { accountId: providerAccountId, ...sealed } = n.credentials as NonNullable<typeof n.credentials>;
      const credentials = {
        accountId: providerAccountId,
        authToken: decryptSecret(this.config.PROVIDER_CREDENTIAL_KEYS, sealed, n._id),
      };
      let held: boolean;
      try {
        const holdings = await this.holding.holdings({
          accountId: n.accountId,
          provider: n.provider,
          credentials,
          numbers: [n._id],
        });
        held = holdings.get(n._id) === 'confirmed';
      } catch (err) {
        // Credentials the provider refuses confirm nothing; no clear answer: asked again next run.
        if (!(err instanceof CodedError && err.code === PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED))
          continue;
        held = false;
      }
      const record: ProviderHoldingRecord = {
        at: new Date(this.clock()),
        provider: n.provider,
        providerAccountId,
        held,
      };
      // Of the credentials read: if they have changed since, this record confirms nothing for them.
      await this.numbers.update(n.accountId, n._id, { providerHolding: record });
      // Confirmed now, or no longer: the routers' loop guards read it afresh.
      if (holdingConfirmed(n) !== held) await this.inventory.announce(n.accountId, n._id);
      if (held) confirmed++;
    }
    if (due.length > 0) this.logger.info({ asked: due.length, confirmed }, 'provider holding sweep');
    return { asked: due.length, confirmed };
  }

  protected async runOnce(): Promise<void> {
    await this.sweep();
  }
}
