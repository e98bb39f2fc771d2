import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  subaccountShare,
  HISTORY_READ_LIMIT_VARIABLES,
  HISTORY_READ_TIMEOUT_MS,
  type HistoryReadKind,
} from '@maskline/contracts';
import { LOGGER, MetricsService } from '@maskline/observability';
import { KeyValueStores } from './key-value-stores';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging.options';
import { SharedSlots } from './shared-slots';

/**
 * Slots of history reads in flight, a bucket per kind: `<main account>.<n>`, and `all.<n>` for the
 * system's. Scans keep the bucket all reads of history shared before lookups were counted apart.
 */
export const HISTORY_READ_SLOTS_BUCKETS: Readonly<Record<HistoryReadKind, string>> = {
  scan: 'maskline-history-read-slots',
  lookup: 'maskline-history-lookup-slots',
};
/** The system-wide keys (account ids are Plivo-style auth ids, never these). */
const ALL = 'all';
const FIRST = 'first';

/**
 * Of the system's `inFlight` slots, those only an account's first read in flight may take (a
 * quarter, rounded down): while busy accounts hold all the rest, this many other accounts can still
 * read their history. A read takes one only when its account holds no other slot (counted in KV
 * when the shared slots are full), and an account holding one reads nothing more until that read
 * ends, so no account holds a reserved slot beside shared ones.
 */
export function historyReadsReservedForFirst(inFlight: number): number {
  return Math.floor(inFlight / 4);
}
/** Longer than any read holds one: its answer is due within HISTORY_READ_TIMEOUT_MS. */
const SLOT_TTL_MS = 3 * HISTORY_READ_TIMEOUT_MS;
/**
 * When a read refused for its account's limit is worth trying again: a scan holds its slot for up to
 * about HISTORY_READ_TIMEOUT_MS; a lookup of one session answers in a fraction of a second.
 */
const RETRY_AFTER_SECONDS: Readonly<Record<HistoryReadKind, number>> = {
  scan: Math.ceil(HISTORY_READ_TIMEOUT_MS / 1000),
  lookup: 1,
};
/** While KV cannot be asked, this replica says so at most this often. */
const FALLBACK_WARN_EVERY_MS = 10_000;

/** One request's admission: taken at the first read of history (`admit`), given back at its end (`close`). */
export interface HistoryReadPass {
  /** Takes the request's slots, once (later calls find them taken), or throws the refusal. */
  admit(): Promise<void>;
  /** Gives back what `admit` took, if anything; never throws. */
  close(): Promise<void>;
}

/**
 * Admission of requests that read history: on FerretDB each is a scan of a collection that grows
 * with history, seconds of the store's CPU at 100,000 ended sessions for a list, and an account's rate
 * limit (100 requests a second) would let one tenant keep hundreds of them running and take the store
 * from every tenant's calls. So of each kind (`HistoryReadKind`: one session's `lookup`, an account's
 * `scan`) at most `perAccount` of one main account's (its subaccounts included) and `inFlight` in all
 * run at once, across every replica of every service (slots in NATS KV, `SharedSlots`, a bucket per
 * kind); a request past either is refused at once, never queued: HISTORY_READS_LIMITED (429) for the
 * account's own, HISTORY_READS_BUSY (503, retryable) for the system's. Lookups are counted apart and
 * allowed more: they read one session's days, and four of them at once (a console page, a client
 * getting sessions in parallel) are ordinary use, not a scan of the history. A quarter of each kind's
 * system slots is kept for accounts' first reads in flight (`historyReadsReservedForFirst`), so a few
 * busy accounts filling the rest cannot refuse every other tenant. A request of a `readsHistory`
 * contract is admitted before its handler runs; any other request at its first read of history
 * (`admitHistoryRead`, from the repositories), as a scan. While KV cannot be asked, each replica counts
 * its own under the same limits (a looser cap, never none, and never an error of the service's). Each
 * costs a KV read and two writes per slot.
 */
@Injectable()
export class HistoryReadAdmission {
  private readonly pools: Record<HistoryReadKind, HistoryReadPool>;

  constructor(
    kv: KeyValueStores,
    @Inject(MESSAGING_OPTIONS) options: MessagingOptions,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
  ) {
    const fallbacks = metrics.counter(
      'maskline_history_read_admission_fallbacks_total',
      'Reads of history admitted by a replica on its own count, as NATS KV could not be asked',
    );
    const warning = { last: Number.NEGATIVE_INFINITY };
    const pool = (kind: HistoryReadKind) =>
      new HistoryReadPool(kind, kv, options.historyReads[kind], logger, () => fallbacks.inc(), warning);
    this.pools = { lookup: pool('lookup'), scan: pool('scan') };
  }

  /** A pass for one request of `kind` on behalf of the main account `accountId` (for its `subaccountId`). */
  pass(kind: HistoryReadKind, accountId: string, subaccountId?: string): HistoryReadPass {
    const pool = this.pools[kind];
    let taken: Promise<() => Promise<void>> | undefined;
    return {
      admit: async () => {
        taken ??= pool.take(accountId, subaccountId);
        await taken;
      },
      close: async () => {
        const giveBack = await taken?.catch(() => undefined);
        await giveBack?.();
      },
    };
  }

  /** `read` of `kind` on behalf of `accountId` once admitted. */
  async run<T>(kind: HistoryReadKind, accountId: string, read: () => Promise<T>): Promise<T> {
    const pass = this.pass(kind, accountId);
    try {
      await pass.admit();
      return await read();
    } finally {
      await pass.close();
    }
  }
}

/** The slots of one kind of history read. */
class HistoryReadPool {
  private slots?: {
    perAccount: SharedSlots;
    /** Keyed `<account>.<subaccount>`: an account id never has a dot, so never one of `perAccount`'s keys. */
    perSubaccount: SharedSlots;
    all: SharedSlots;
    /** The reserved slots, and which accounts hold one (one each at most). */
    first?: { slots: SharedSlots; holders: SharedSlots };
  };
  /** This replica's own count, used while KV cannot be asked. */
  private readonly local = { perAccount: new Map<string, number>(), all: 0 };

  constructor(
    private readonly kind: HistoryReadKind,
    private readonly kv: KeyValueStores,
    private readonly limits: { perAccount: number; inFlight: number },
    private readonly logger: Logger,
    private readonly countFallback: () => void,
    /** When this replica last said it counts on its own (shared by the kinds). */
    private readonly warning: { last: number },
  ) {}

  /**
   * For a subaccount, first a slot of its own share (`subaccountShareOf`); then a slot of the
   * account's and one of the system's (a function giving them all back), or the refusal. While KV
   * cannot be asked for the share, the account's limit alone holds.
   */
  async take(accountId: string, subaccountId?: string): Promise<() => Promise<void>> {
    if (!subaccountId) return this.takeForAccount(accountId);
    let share: (() => Promise<void>) | null = null;
    try {
      share = await this.slotsOf().perSubaccount.take(`${accountId}.${subaccountId}`);
    } catch {
      return this.takeForAccount(accountId);
    }
    if (!share) throw this.limited(true);
    const shareSlot = share;
    try {
      const rest = await this.takeForAccount(accountId);
      return async () => {
        await rest();
        await shareSlot();
      };
    } catch (err) {
      await shareSlot();
      throw err;
    }
  }

  /** A slot of the account's and one of the system's (a function giving both back), or the refusal. */
  private async takeForAccount(accountId: string): Promise<() => Promise<void>> {
    const { perAccount, all, first } = this.slotsOf();
    let own: (() => Promise<void>) | null = null;
    try {
      own = await perAccount.take(accountId);
      if (!own) throw this.limited();
      // An account holding a reserved slot reads nothing more until that read ends: else, as the
      // shared slots free up, each busy account would come to hold a reserved one beside them.
      if (first && (await first.holders.heldCount(reservedBy(accountId))) > 0) throw this.busy();
      const shared = (await all.take(ALL)) ?? (first && (await this.takeReserved(accountId)));
      if (!shared) throw this.busy();
      const ownSlot = own;
      return async () => {
        await shared();
        await ownSlot();
      };
    } catch (err) {
      await own?.();
      if (isRefusal(err)) throw err;
      return this.takeLocally(accountId, err);
    }
  }

  /**
   * A reserved slot, for an account that holds no other (its own slot just taken is its only one),
   * marked as the account's (`reservedBy`, one at most): a function giving both back, or null.
   */
  private async takeReserved(accountId: string): Promise<(() => Promise<void>) | null> {
    const { perAccount, first } = this.slotsOf();
    if (!first || (await perAccount.heldCount(accountId)) !== 1) return null;
    const mark = await first.holders.take(reservedBy(accountId));
    if (!mark) return null;
    let slot: (() => Promise<void>) | null = null;
    try {
      slot = await first.slots.take(FIRST);
    } finally {
      // Given back when no slot came of it, taken or failed (else the account reads nothing until its TTL).
      if (!slot) await mark();
    }
    if (!slot) return null;
    return async () => {
      await slot();
      await mark();
    };
  }

  private takeLocally(accountId: string, cause: unknown): () => Promise<void> {
    const now = Date.now();
    if (now >= this.warning.last + FALLBACK_WARN_EVERY_MS) {
      this.warning.last = now;
      this.logger.warn(
        { err: cause },
        'history read slots could not be asked in NATS KV; this replica counts its own meanwhile',
      );
    }
    const { perAccount, inFlight } = this.limits;
    const held = this.local.perAccount.get(accountId) ?? 0;
    if (held >= perAccount) throw this.limited();
    if (this.local.all >= inFlight) throw this.busy();
    this.countFallback();
    this.local.perAccount.set(accountId, held + 1);
    this.local.all += 1;
    let given = false;
    return async () => {
      if (given) return;
      given = true;
      this.local.all -= 1;
      const left = (this.local.perAccount.get(accountId) ?? 1) - 1;
      if (left > 0) this.local.perAccount.set(accountId, left);
      else this.local.perAccount.delete(accountId);
    };
  }

  private limited(subaccount = false): CodedError {
    const what = this.kind === 'lookup' ? 'reads of one session' : 'lists and other reads of history';
    const whose = subaccount
      ? `this subaccount may have ${subaccountShareOf(this.limits.perAccount)} in flight (half of its main account's`
      : `this account may have ${this.limits.perAccount} in flight (`;
    return new CodedError(
      ErrorCodes.HISTORY_READS_LIMITED,
      `too many ${what} at once: ${whose}` +
        `${HISTORY_READ_LIMIT_VARIABLES[this.kind].perAccount}); retry when one has answered`,
      { details: { retryAfterSeconds: RETRY_AFTER_SECONDS[this.kind] } },
    );
  }

  private busy(): CodedError {
    return new CodedError(
      ErrorCodes.HISTORY_READS_BUSY,
      'the service is answering as many reads of history as it may at once ' +
        `(${HISTORY_READ_LIMIT_VARIABLES[this.kind].inFlight}); retry shortly`,
      { retryable: true, details: { retryAfterSeconds: 1 } },
    );
  }

  /** Made at the first history read, so a service that answers none never makes the bucket. */
  private slotsOf() {
    if (this.slots) return this.slots;
    const { perAccount, inFlight } = this.limits;
    const slots = (limit: number) =>
      new SharedSlots(this.kv, {
        bucket: HISTORY_READ_SLOTS_BUCKETS[this.kind],
        limit,
        slotTtlMs: SLOT_TTL_MS,
        // A refused read is told "no" at once: not for a slot given back as the look went by.
        lookTwice: true,
        onReleaseError: (err) =>
          this.logger.warn({ err }, 'a history read slot could not be given back; it frees itself by TTL'),
      });
    const reserved = historyReadsReservedForFirst(inFlight);
    this.slots = {
      perAccount: slots(perAccount),
      perSubaccount: slots(subaccountShareOf(perAccount)),
      all: slots(inFlight - reserved),
      first: reserved > 0 ? { slots: slots(reserved), holders: slots(1) } : undefined,
    };
    return this.slots;
  }
}

/** The key marking that an account holds a reserved slot (never an account id: those are Plivo-style auth ids). */
function reservedBy(accountId: string): string {
  return `reserved-by-${accountId}`;
}

function isRefusal(err: unknown): boolean {
  return (
    err instanceof CodedError &&
    (err.code === ErrorCodes.HISTORY_READS_LIMITED || err.code === ErrorCodes.HISTORY_READS_BUSY)
  );
}

/**
 * The main account a request is made for, by its shape (`scope.accountId`, else `accountId`): the
 * key of its admission when its contract does not name it (`readsHistory.accountOf`). A request that
 * names none shares one key with every other such request.
 */
/** The subaccount a request acts for (its `scope`'s), if any. */
export function subaccountNamedBy(request: unknown): string | undefined {
  const id = (request as { scope?: { subaccountId?: unknown } } | null)?.scope?.subaccountId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * A subaccount's share of its main account's reads in flight: half of them (at least one), so one
 * subaccount (a reseller's customer) cannot take every slot from its main account and siblings.
 */
export function subaccountShareOf(perAccount: number): number {
  return subaccountShare(perAccount);
}

export function accountNamedBy(request: unknown): string {
  const r = request as { scope?: { accountId?: unknown }; accountId?: unknown } | null;
  const id = r?.scope?.accountId ?? r?.accountId;
  return typeof id === 'string' ? id : '-';
}
