import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes, GetProxyServicePolicy, type RpcReplyOf } from '@maskline/contracts';
import { InvalidatedCache, RpcClient, SigningTokens } from '@maskline/messaging';
import { UrlGuard, hostResolver, sendPinned } from '@maskline/net-guard';
import { BreakerRegistry, Bulkheads } from '@maskline/resilience';
import { twilioSignature } from '@maskline/webhook-signatures';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';

/** How long a replica keeps a Service's policy (a change reaches the routers within this). */
const POLICY_TTL_MS = 10_000;
/**
 * A Service's callbacks of one purpose one replica makes at once for one account: a slow endpoint
 * holds no more.
 */
export const CALLBACKS_PER_ACCOUNT = 8;
/**
 * Of those, the most one subaccount's Services hold at once: half, so one subaccount's slow endpoint
 * (its own, or one it stalls on purpose) leaves its main account and siblings their intercepts,
 * which a Service that fails open would otherwise let through unasked.
 */
export const CALLBACKS_PER_SUBACCOUNT = CALLBACKS_PER_ACCOUNT / 2;
/** The most of an answer read (an out-of-session JSON answer is a few hundred bytes). */
const ANSWER_MAX_BYTES = 16_384;

export type ProxyServicePolicy = RpcReplyOf<typeof GetProxyServicePolicy>;

/** Whose Service: the owner (account, subaccount) and the Service's SID. */
export interface ServiceOwner {
  accountId: string;
  subaccountId: string | null;
  serviceSid: string;
}

/**
 * What a callback is for. Each has turns of its own: out-of-session callbacks, which anyone can
 * start by calling or texting a Service's number, cannot take the intercepts' turns, which a Service
 * that fails open would let through unasked.
 */
export type CallbackPurpose = 'intercept' | 'out-of-session';

export type CallbackAnswer =
  | { kind: 'answered'; status: number; contentType: string; body: string }
  /**
   * No answer to go by: not in time, refused by the URL rules or its breaker, or (`unasked`) not
   * sent at all, as many of its owner's callbacks for that purpose were in flight already.
   */
  | { kind: 'failed'; unasked?: true };

/**
 * What the Proxy callbacks of one interaction share: INTERCEPT_TIMEOUT_MS from the first of them
 * (`post` sets `by`, epoch ms), so a call's out-of-session and intercept callbacks together fit in
 * the gateway's wait for the call's answer. Reads before the first callback do not spend it.
 */
export interface CallbackBudget {
  by?: number;
}

/**
 * What the routers need to call a Proxy Service's own URLs (intercept, out-of-session): the
 * Service's settings (read over NATS, kept 10 s), and a POST signed as Twilio signs
 * (X-Twilio-Signature, the owner's Auth Token). Each call is judged by the SSRF rules at the
 * moment it is made (the address checked is the one connected to, so DNS cannot change in
 * between), goes through a breaker per account (or subaccount) and host, within the account's callbacks at
 * once (a subaccount's within half of them), and is bounded in time
 * (INTERCEPT_TIMEOUT_MS) and size.
 */
@Injectable()
export class ProxyCallbacks {
  private readonly policies = new InvalidatedCache<string, ProxyServicePolicy | null>({
    ttlMs: POLICY_TTL_MS,
    maxEntries: 10_000,
    // In fair shares by tenant (the key's first part): one with many Services cannot push others' out.
    ownerOf: (key) => key.slice(0, key.indexOf('/')),
  });
  private readonly tokens: SigningTokens;
  private readonly guard: UrlGuard;
  private readonly turns: Record<CallbackPurpose, { perAccount: Bulkheads; perSubaccount: Bulkheads }> = {
    intercept: turnsOf(),
    'out-of-session': turnsOf(),
  };

  constructor(
    private readonly rpc: RpcClient,
    private readonly breakers: BreakerRegistry,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
  ) {
    this.tokens = new SigningTokens(rpc);
    this.guard = new UrlGuard(config.CALLBACK_HOST_ALLOWLIST, hostResolver(config.DNS_SERVERS));
  }

  /** The Service's settings; null for a Service since deleted. */
  async policy(owner: ServiceOwner): Promise<ProxyServicePolicy | null> {
    const key = `${owner.accountId}/${owner.subaccountId ?? ''}/${owner.serviceSid}`;
    return this.policies.get(key, async () => {
      try {
        return await this.rpc.request(GetProxyServicePolicy, owner);
      } catch (err) {
        if (!(err instanceof CodedError) || err.code !== ErrorCodes.NOT_FOUND) throw err;
        return null;
      }
    });
  }

  /**
   * POSTs the form to the Service's URL, signed; `failed` when it may not be called, did not answer
   * within INTERCEPT_TIMEOUT_MS (its name's lookup included) or what is left of `budget` (shared with
   * the interaction's other callbacks), or its breaker is open; `unasked` when its account has
   * CALLBACKS_PER_ACCOUNT callbacks of the same purpose in flight on this replica already (a
   * subaccount half of them). Not sent at all once the budget is spent.
   */
  async post(
    purpose: CallbackPurpose,
    owner: ServiceOwner,
    url: string,
    params: Record<string, string>,
    budget: CallbackBudget = {},
  ): Promise<CallbackAnswer> {
    budget.by ??= Date.now() + this.config.INTERCEPT_TIMEOUT_MS;
    const deadline = budget.by;
    if (deadline <= Date.now()) return { kind: 'failed' };
    const token = await this.tokens.of(owner.accountId, owner.subaccountId);
    const body = new URLSearchParams(params).toString();
    try {
      const ran = await this.admitted(purpose, owner, () =>
        // One tenant's failing endpoint (or name server) opens its own breaker only: a subaccount's
        // its own, so that one pointing its Service at a sibling's host and failing there on purpose
        // does not open the sibling's.
        this.breakers.fire(
          {
            family: 'proxy-callback',
            key: `${owner.accountId}/${owner.subaccountId ?? ''}:${new URL(url).host}`,
          },
          async () => {
            const verdict = await withDeadline(this.guard.check(url), deadline);
            if (verdict.ok !== true) throw new Error(`the URL may not be called: ${verdict.reason}`);
            const left = Math.max(1, deadline - Date.now());
            const sent = await sendPinned({
              method: 'POST',
              url,
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': String(Buffer.byteLength(body)),
                'x-twilio-signature': twilioSignature(token, url, params),
              },
              body,
              address: verdict.address,
              family: verdict.family,
              connectTimeoutMs: left,
              totalTimeoutMs: left,
              maxBodyBytes: ANSWER_MAX_BYTES,
              keepBody: true,
            });
            if (sent.kind !== 'response') throw new Error(sent.error);
            return {
              kind: 'answered' as const,
              status: sent.statusCode,
              contentType: sent.contentType ?? '',
              body: sent.body ?? '',
            };
          },
        ),
      );
      return ran.admitted ? ran.value : { kind: 'failed', unasked: true };
    } catch {
      return { kind: 'failed' };
    }
  }

  /** `work` within its account's callbacks of its purpose at once, and a subaccount's within its share of them. */
  private async admitted<T>(
    purpose: CallbackPurpose,
    owner: ServiceOwner,
    work: () => Promise<T>,
  ): Promise<{ admitted: true; value: T } | { admitted: false }> {
    const { perAccount, perSubaccount } = this.turns[purpose];
    const inAccount = () => perAccount.run(owner.accountId, work);
    if (!owner.subaccountId) return inAccount();
    const ran = await perSubaccount.run(`${owner.accountId}/${owner.subaccountId}`, inAccount);
    return ran.admitted ? ran.value : ran;
  }
}

/** One purpose's turns: an account's, and within them a subaccount's share. */
function turnsOf(): { perAccount: Bulkheads; perSubaccount: Bulkheads } {
  return {
    perAccount: new Bulkheads(CALLBACKS_PER_ACCOUNT),
    perSubaccount: new Bulkheads(CALLBACKS_PER_SUBACCOUNT),
  };
}

/** The work's result, or a rejection once the deadline has passed. */
function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer in time')), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
