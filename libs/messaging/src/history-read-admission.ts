import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes, HISTORY_READ_TIMEOUT_MS } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { KeyValueStores } from './key-value-stores';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging.options';
import { SharedSlots } from './shared-slots';

/** Slots of history reads in flight: `<main account>.<n>`, and `all.<n>` for the system's. */
export const HISTORY_READ_SLOTS_BUCKET = 'maskline-history-read-slots';
/** The system-wide key (account ids are Plivo-style auth ids, never this). */
const ALL = 'all';
/** Longer than any read holds one: its answer is due within HISTORY_READ_TIMEOUT_MS. */
const SLOT_TTL_MS = 3 * HISTORY_READ_TIMEOUT_MS;
/** When a refused read is worth trying again: a read holds its slot for at most about this. */
const RETRY_AFTER_SECONDS = Math.ceil(HISTORY_READ_TIMEOUT_MS / 1000);

/**
 * Admission of requests that read history (`readsHistory` contracts): on FerretDB each is a scan of
 * a collection that grows with history, seconds of the store's CPU at 100,000 ended sessions, and an
 * account's rate limit (100 requests a second) would let one tenant keep hundreds of them running
 * and take the store from every tenant's calls. So at most `perAccount` of one main account's (its
 * subaccounts included) and `inFlight` in all run at once, across every replica of every service
 * (slots in NATS KV, `SharedSlots`); a request past either is refused at once, never queued:
 * HISTORY_READS_LIMITED (429) for the account's own, HISTORY_READS_BUSY (503, retryable) for the
 * system's. Each costs a KV read and two writes per slot, a millisecond beside a read of history.
 */
@Injectable()
export class HistoryReadAdmission {
  private slots?: { perAccount: SharedSlots; all: SharedSlots };

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `read` on behalf of `accountId` if a slot of the account's and one of the system's are free. */
  async run<T>(accountId: string, read: () => Promise<T>): Promise<T> {
    const { perAccount, all } = this.slotsOf();
    const own = await perAccount.run(accountId, async () => {
      const shared = await all.run(ALL, read);
      if (!shared.admitted) {
        throw new CodedError(
          ErrorCodes.HISTORY_READS_BUSY,
          'the service is answering as many reads of history as it may at once; retry shortly',
          { retryable: true, details: { retryAfterSeconds: 1 } },
        );
      }
      return shared.value;
    });
    if (!own.admitted) {
      throw new CodedError(
        ErrorCodes.HISTORY_READS_LIMITED,
        `too many reads of history at once: this account may have ${this.options.historyReads.perAccount} in flight; ` +
          'retry when one has answered',
        { details: { retryAfterSeconds: RETRY_AFTER_SECONDS } },
      );
    }
    return own.value;
  }

  /** Made at the first history read, so a service that answers none never makes the bucket. */
  private slotsOf() {
    if (this.slots) return this.slots;
    const { perAccount, inFlight } = this.options.historyReads;
    const slots = (limit: number) =>
      new SharedSlots(this.kv, {
        bucket: HISTORY_READ_SLOTS_BUCKET,
        limit,
        slotTtlMs: SLOT_TTL_MS,
        onReleaseError: (err) =>
          this.logger.warn({ err }, 'a history read slot could not be given back; it frees itself by TTL'),
      });
    this.slots = { perAccount: slots(perAccount), all: slots(inFlight) };
    return this.slots;
  }
}
