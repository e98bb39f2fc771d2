import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, PoolErrorCodes } from '@maskline/contracts';
import { SweepTurns } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import { InventoryService } from './inventory.service';
import { holdingConfirmed, holdingToAsk, type ProviderHoldingRecord } from './provider-holding';
import { ProviderHoldingClient } from './provider-holding.client';
import { VirtualNumberRepository } from './virtual-number.repository';
import type { VirtualNumberDocument } from './virtual-number.schema';

/** Numbers one run asks about at most: a provider is never asked in a burst. */
export const HOLDING_SWEEP_BATCH = 200;
/** How long one run waits on providers in all (it holds the interval's sweep turn meanwhile). */
const HOLDING_SWEEP_BUDGET_MS = 60_000;

function shuffled<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Every PROVIDER_HOLDING_SWEEP_INTERVAL_MS, on the replica that takes the interval's turn: the
 * providers are asked about the numbers with credentials they were never asked about as they are
 * now (stored before the question was asked, or by an older release during an upgrade), or were
 * asked about PROVIDER_HOLDING_REASK_AFTER_MS ago or more (a number its account released at the
 * provider may since be a person's phone). Until asked, a number is not taken for Maskline's own.
 * Reads the numbers with credentials, active or deleted within NUMBER_QUARANTINE_MS (bounded by
 * NUMBERS_PER_ACCOUNT_MAX per account, not by history); asks about HOLDING_SWEEP_BATCH at most, in
 * HOLDING_SWEEP_BUDGET_MS at most.
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
    const started = performance.now();
    const deletedSince = new Date(now - this.config.NUMBER_QUARANTINE_MS);
    // In no fixed order: numbers that cannot be asked about now (a provider down, credentials that
    // cannot be read) never keep the others waiting.
    const due = shuffled(
      (await this.numbers.withCredentialsSystemWide(deletedSince)).filter((n) =>
        holdingToAsk(n, now, this.config.PROVIDER_HOLDING_REASK_AFTER_MS),
      ),
    ).slice(0, HOLDING_SWEEP_BATCH);
    let asked = 0;
    let confirmed = 0;
    for (const n of due) {
      // A run waits on providers for HOLDING_SWEEP_BUDGET_MS at most: the rest wait for the next.
      if (performance.now() - started > HOLDING_SWEEP_BUDGET_MS) break;
      const record = await this.ask(n);
      if (!record) continue;
      asked++;
      // Of the credentials read: if they have changed since, this record confirms nothing for them.
      await this.numbers.update(n.accountId, n._id, { providerHolding: record });
      // Confirmed now, or no longer: the routers' loop guards read it afresh.
      if (holdingConfirmed(n) !== record.held) await this.inventory.announce(n.accountId, n._id);
      if (record.held) confirmed++;
    }
    if (asked > 0) this.logger.info({ asked, confirmed }, 'provider holding sweep');
    return { asked, confirmed };
  }

  /**
   * The provider's word on the number for its stored credentials; undefined when there is none to
   * keep (no clear answer, or credentials that cannot be read): asked again at a later run.
   */
  private async ask(n: VirtualNumberDocument): Promise<ProviderHoldingRecord | undefined> {
    const providerAccountId = (n.credentials as NonNullable<typeof n.credentials>).accountId;
    try {
      // As routing reads them (an id no provider issues is none: nothing to ask with).
      const credentials = this.inventory.credentialsOf(n);
      if (!credentials) return undefined;
      const holdings = await this.holding.holdings({
        accountId: n.accountId,
        provider: n.provider,
        credentials,
        numbers: [n._id],
      });
      const held = holdings.get(n._id) === 'confirmed';
      return { at: new Date(this.clock()), provider: n.provider, providerAccountId, held };
    } catch (err) {
      // Refused credentials confirm nothing (asked again within the hour: a token being rotated).
      if (err instanceof CodedError && err.code === PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED) {
        return { at: new Date(this.clock()), provider: n.provider, providerAccountId, held: false };
      }
      if (!(err instanceof CodedError)) {
        this.logger.warn({ err: { name: (err as Error).name }, number: n._id }, 'provider holding not asked');
      }
      return undefined;
    }
  }

  protected async runOnce(): Promise<void> {
    await this.sweep();
  }
}
