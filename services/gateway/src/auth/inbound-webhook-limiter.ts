import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes, type VoiceStage } from '@maskline/contracts';
import { KeyValueStores, SubaccountShareBuckets, type AllowanceOwner } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/** One entry per account whose numbers were called or texted in the last hour (two: starts, follow-ups). */
export const INBOUND_RATE_BUCKET = 'maskline-inbound-rate';
/** One entry per subaccount whose numbers were called or texted in the last hour (two, as above): its share's. */
export const INBOUND_SUBACCOUNT_RATE_BUCKET = 'maskline-inbound-subaccount-rate';

/**
 * Follow-ups allowed per call started. A call brings about 10 webhooks after its answer with the
 * defaults (dial events, the dial's end, recording reports, its hangup, a PIN entry) and up to 15
 * (six PIN attempts, every leg event): twice that keeps a real call from running out even when its
 * account's calls start at the limit, and a tenant signing its own calls' contexts again cannot
 * send the routers more than this.
 */
export const FOLLOW_UPS_PER_START = 16;

/** What a provider's webhook is to an account's allowance. */
export type InboundKind =
  /** A new inbound call (its answer), a text, or a status report with no call context of ours: INBOUND_RATE_LIMIT_PER_SECOND. */
  | 'start'
  /** A webhook of a call taken (its context): PIN entry, dial events, recordings; FOLLOW_UPS_PER_START times that. */
  | 'follow-up';

/**
 * Which allowance a telephony webhook spends: a new call's answer, or a report with no call context
 * of ours (a call id anyone can make up), is a start; a webhook of a call taken (its context, which
 * its owner can sign again at will) a follow-up.
 */
export function inboundKindOf(stage: VoiceStage, withContext: boolean): InboundKind {
  return stage === 'answer' || !withContext ? 'start' : 'follow-up';
}

/**
 * The calls and texts providers start towards one account's numbers (INBOUND_RATE_LIMIT_PER_SECOND,
 * bursts of INBOUND_RATE_LIMIT_BURST), and the webhooks that follow them, the account's whatever
 * the number of gateway replicas. Taken once a webhook's signature has verified with its number's
 * credentials, and keyed by that number's owner: only that account's own webhooks spend it. A
 * subaccount's numbers (it adds them with provider credentials of its own, and can sign their
 * webhooks at will) take first from a share of their own, SUBACCOUNT_RATE_LIMIT_PERCENT of each
 * allowance, so one subaccount cannot spend its main account's and siblings' whole allowance.
 */
@Injectable()
export class InboundWebhookLimiter {
  private readonly buckets: Record<InboundKind, SubaccountShareBuckets>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    kv: KeyValueStores,
    @Inject(CLOCK) clock: Clock,
  ) {
    const rule = (times: number) => ({
      bucket: INBOUND_RATE_BUCKET,
      subaccountBucket: INBOUND_SUBACCOUNT_RATE_BUCKET,
      ratePerSecond: times * config.INBOUND_RATE_LIMIT_PER_SECOND,
      burst: times * config.INBOUND_RATE_LIMIT_BURST,
      percent: config.SUBACCOUNT_RATE_LIMIT_PERCENT,
      now: clock,
    });
    // One KV bucket each for accounts and subaccounts, a key per owner and allowance.
    this.buckets = {
      start: new SubaccountShareBuckets(kv, rule(1)),
      'follow-up': new SubaccountShareBuckets(kv, rule(FOLLOW_UPS_PER_START), '.follow-ups'),
    };
  }

  /** Spends one of the number owner's inbound webhooks of this kind, or fails with RATE_LIMITED. */
  async take(owner: AllowanceOwner, kind: InboundKind): Promise<void> {
    const taken = await this.buckets[kind].take(owner);
    if (taken.ok) return;
    const rate =
      taken.by === 'subaccount'
        ? this.buckets[kind].subaccountRate
        : this.config.INBOUND_RATE_LIMIT_PER_SECOND * (kind === 'start' ? 1 : FOLLOW_UPS_PER_START);
    const whose =
      taken.by === 'subaccount'
        ? "this subaccount's numbers (SUBACCOUNT_RATE_LIMIT_PERCENT of its main account's)"
        : owner.subaccountId
          ? "the main account's numbers, with its subaccounts',"
          : "this account's numbers";
    throw new CodedError(
      ErrorCodes.RATE_LIMITED,
      kind === 'start'
        ? `too many inbound calls and messages: ${whose} take ${rate} per second`
        : `too many webhooks for calls: ${whose} take ${rate} per second`,
      { details: { retryAfterSeconds: taken.retryAfterSeconds } },
    );
  }

  /** Whether this replica already knows the owner is over this allowance now (no I/O, nothing spent). */
  refusing(owner: AllowanceOwner, kind: InboundKind): boolean {
    return this.buckets[kind].refusing(owner);
  }

  /** Whether an error is this limiter's refusal (anything else is not the account's doing). */
  static refused(err: unknown): boolean {
    return err instanceof CodedError && err.code === ErrorCodes.RATE_LIMITED;
  }
}
