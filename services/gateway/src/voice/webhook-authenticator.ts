import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import {
  CALL_CONTEXT_PARAM,
  STAGES_NEEDING_CONTEXT,
  decodeCallContext,
  e164Schema,
  type CallContext,
  type VoiceStage,
} from '@maskline/contracts';
import { InboundWebhookLimiter, inboundKindOf } from '../auth/inbound-webhook-limiter';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { NumberRoutingCache } from '@maskline/messaging';
import { ReplayGuard } from './replay-guard';
import { toE164, type Direction, type WebhookDialect, type WebhookParams } from './webhook-dialect';

/** Whose webhook this is, once every check has passed. */
export interface VerifiedWebhook {
  /** The virtual number whose stored credentials verified the request: every decision is confined to it. */
  virtualNumber: string;
  /** Its owner. */
  accountId: string;
  /** The subaccount it belongs to, if any (whose share of the owner's inbound allowance it spends). */
  subaccountId: string | null;
  /** The call's A leg. */
  callId: string;
  /** The other end of the A leg. */
  caller: string;
  direction: Direction;
  /** The follow-up Maskline handed out for this URL (null on the URLs configured at the provider). */
  context: CallContext | null;
}

export type WebhookVerdict =
  | { kind: 'accepted'; webhook: VerifiedWebhook }
  /** 403: forged, spliced, replayed, or not for a number Maskline serves. `reason` is for the log only. */
  | { kind: 'refused'; reason: string }
  /** A dependency could not be asked (number-pool, NATS KV): the caller hears "try again later". */
  | { kind: 'unavailable'; err: unknown }
  /**
   * Signed by the number's owner, who is over its inbound allowance on this replica right now
   * (`InboundWebhookLimiter.refusing`): not checked for a replay, so a flood writes no replay entries.
   */
  | { kind: 'over-limit'; accountId: string };

/**
 * The trust boundary of the telephony edge. A webhook concerns exactly one virtual number: the
 * one named by Maskline's signed call context, or by the call itself (`To` on a call into the
 * number) on the URLs configured at the provider. That number's stored credentials must verify
 * the provider's signature; every other number the request carries must agree with it; the call
 * context must have been made for this provider, stage and call; and the request must not have
 * been seen before. Only then is it routed, confined to that number and its owner.
 */
@Injectable()
export class WebhookAuthenticator {
  constructor(
    private readonly numbers: NumberRoutingCache,
    private readonly replay: ReplayGuard,
    private readonly limiter: InboundWebhookLimiter,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async authenticate(
    dialect: WebhookDialect,
    stage: VoiceStage,
    req: Request,
    url: string,
    params: WebhookParams,
    query: WebhookParams,
  ): Promise<WebhookVerdict> {
    const refused = (reason: string): WebhookVerdict => ({ kind: 'refused', reason });
    // Nothing unsigned costs a lookup (or evicts a real number from the cache).
    if (this.config.WEBHOOK_SIGNATURE_CHECK && !dialect.signed(req)) return refused('unsigned');

    // 1. Maskline's own context: made by Maskline, for this provider and stage, still valid.
    let context: CallContext | null = null;
    const token = query[CALL_CONTEXT_PARAM];
    if (token !== undefined) {
      const verdict = decodeCallContext(token, this.config.CALL_CONTEXT_KEYS, Math.floor(Date.now() / 1000));
      if (!verdict.ok) return refused(`call context ${verdict.reason}`);
      context = verdict.context;
      if (context.provider !== dialect.provider) return refused('call context made for another provider');
      if (context.stage !== stage) return refused('call context made for another stage');
    } else if (STAGES_NEEDING_CONTEXT.has(stage)) {
      return refused('call context missing');
    }

    // 2. The one number this request is about.
    const direction: Direction = context?.direction ?? 'inbound';
    const virtualNumber = context?.virtualNumber ?? toE164(direction === 'inbound' ? params.To : params.From);
    if (!virtualNumber || !e164Schema.safeParse(virtualNumber).success)
      return refused('no virtual number named');

    // 3. Every number the request carries agrees with it (Maskline's legacy `vn` included).
    for (const name of [...dialect.numberParams(stage, direction)]) {
      const value = params[name];
      if (value !== undefined && value !== '' && toE164(value) !== virtualNumber) {
        return refused(`${name} is not the virtual number the request is about`);
      }
    }
    if (query.vn !== undefined && toE164(query.vn) !== virtualNumber) {
      return refused('vn is not the virtual number the request is about');
    }

    // 4. The call: the one the context was made for.
    const callId = dialect.callId(stage, params);
    if (!callId || callId.length > 64) return refused('no call id');
    if (context?.callId !== undefined && context.callId !== callId) {
      return refused('call context made for another call');
    }

    // 5. The number's owner and credentials; a lookup that fails is an outage, not a refusal.
    let routing;
    try {
      // A follow-up carrying Maskline's own context (checked above) names a number Maskline chose:
      // not one of a flood's made-up numbers, and not held back with them.
      routing = await this.numbers.get(virtualNumber, { unauthenticated: context === null });
    } catch (err) {
      return { kind: 'unavailable', err };
    }
    if (!routing) return refused('number is in no inventory');
    if (routing.provider !== dialect.provider) return refused('number is served by another provider');
    if (context && context.accountId !== routing.accountId) return refused('number changed owner');

    if (this.config.WEBHOOK_SIGNATURE_CHECK) {
      // 6. Signed with that number's credentials, by the account it says.
      if (!routing.credentials) return refused('number has no provider credentials');
      if (!dialect.signatureValid(req, url, params, routing.credentials.authToken)) {
        return refused('signature does not verify with the number’s credentials');
      }
      const account = dialect.providerAccount(params);
      if (account !== undefined && account !== routing.credentials.accountId) {
        return refused('provider account is not the number’s');
      }
      // Its owner over its allowance already: refused before its replay keys are written (each
      // kept a day), which a tenant flooding its own numbers would otherwise fill the bucket with.
      if (this.limiter.refusing(routing, inboundKindOf(stage, context !== null))) {
        return { kind: 'over-limit', accountId: routing.accountId };
      }
      // 7. Not seen before: every key new.
      const keys = dialect.replayKeys(req, stage, params, context);
      if (keys.length === 0) return refused('nothing to tell this request from a replay');
      try {
        for (const key of keys) {
          // Per number: another number's traffic can neither replay into nor block this one's.
          if (!(await this.replay.firstTime(`${virtualNumber}|${key}`))) return refused('replayed');
        }
      } catch (err) {
        return { kind: 'unavailable', err };
      }
    }

    const caller = (direction === 'inbound' ? toE164(params.From) : toE164(params.To)) ?? '';
    return {
      kind: 'accepted',
      webhook: {
        virtualNumber,
        accountId: routing.accountId,
        subaccountId: routing.subaccountId,
        callId,
        caller: caller.slice(0, 32),
        direction,
        context,
      },
    };
  }
}
