import { subaccountShare } from '@maskline/contracts';
import { KeyValueStores } from './key-value-stores';
import { SharedTokenBuckets } from './shared-token-buckets';

/** Whose allowance a request spends: a main account, and the subaccount it came through, if any. */
export interface AllowanceOwner {
  accountId: string;
  subaccountId?: string | null;
}

export type ShareTakeResult =
  | { ok: true }
  /** `by`: whose bucket was empty, the subaccount's share or the main account's. */
  | { ok: false; by: 'subaccount' | 'account'; retryAfterSeconds: number };

/**
 * A per-second limit a main account shares with its subaccounts, the same whatever the number of
 * gateway replicas (`SharedTokenBuckets`, one entry per key in NATS KV). A subaccount's take counts
 * to its main account's, and first to a bucket of its own holding `percent` of the account's rate
 * and burst: one subaccount over its share is refused before it spends its main account's tokens,
 * so the main account and its other subaccounts keep the rest.
 */
export class SubaccountShareBuckets {
  /** A subaccount's rate: what its refusal names. */
  readonly subaccountRate: number;
  private readonly accounts: SharedTokenBuckets;
  private readonly subaccounts: SharedTokenBuckets;

  constructor(
    kv: KeyValueStores,
    rule: {
      /** The KV buckets of the main accounts' and of the subaccounts' entries. */
      bucket: string;
      subaccountBucket: string;
      ratePerSecond: number;
      burst: number;
      /** A subaccount's share of the rate and the burst, in percent. */
      percent: number;
      now: () => number;
    },
    /** Told apart from other limits kept in the same buckets (`.follow-ups`, say). */
    private readonly suffix = '',
  ) {
    this.accounts = SharedTokenBuckets.perSecond(kv, {
      bucket: rule.bucket,
      ratePerSecond: rule.ratePerSecond,
      burst: rule.burst,
      now: rule.now,
    });
    this.subaccountRate = subaccountShare(rule.ratePerSecond, rule.percent);
    this.subaccounts = SharedTokenBuckets.perSecond(kv, {
      bucket: rule.subaccountBucket,
      ratePerSecond: this.subaccountRate,
      burst: subaccountShare(rule.burst, rule.percent),
      now: rule.now,
    });
  }

  async take(owner: AllowanceOwner): Promise<ShareTakeResult> {
    if (owner.subaccountId) {
      const share = await this.subaccounts.take(owner.subaccountId + this.suffix);
      if (!share.ok) return { ok: false, by: 'subaccount', retryAfterSeconds: share.retryAfterSeconds };
    }
    const taken = await this.accounts.take(owner.accountId + this.suffix);
    return taken.ok ? taken : { ok: false, by: 'account', retryAfterSeconds: taken.retryAfterSeconds };
  }

  /** Whether this replica already knows the owner is over its share or its account's limit now (no I/O, nothing spent). */
  refusing(owner: AllowanceOwner): boolean {
    return (
      (!!owner.subaccountId && this.subaccounts.refusing(owner.subaccountId + this.suffix)) ||
      this.accounts.refusing(owner.accountId + this.suffix)
    );
  }
}
