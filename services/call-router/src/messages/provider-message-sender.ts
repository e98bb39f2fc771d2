import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CodedError, ErrorCodes, type TelephonyProvider } from '@maskline/contracts';
import {
  HttpTimeout,
  KeptAliveHttpClient,
  providerAccountBreaker,
  providerApiUrl,
  providerAuthorization,
  type HttpAnswer,
} from '@maskline/net-guard';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { BreakerRegistry, Bulkheads, breakerName, type TenantBreaker } from '@maskline/resilience';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';
import { HeldBackSince } from './held-back-since';
import {
  RELAY_SLOTS_PER_ACCOUNT,
  RELAY_SLOTS_PER_SUBACCOUNT,
  relayWaitersPerProviderAccount,
} from './relay-slots';

export interface OutboundMessage {
  /** The Maskline account sending: a breaker is never shared with another tenant's numbers. */
  accountId: string;
  /** The subaccount whose number sends, if any: it holds at most RELAY_SLOTS_PER_SUBACCOUNT. */
  subaccountId: string | null;
  provider: TelephonyProvider;
  credentials: { accountId: string; authToken: string };
  from: string;
  to: string;
  text: string;
  mediaUrls: string[];
}

/** The provider account a message goes through, and whose share of the relay it takes. */
export type SendingAccount = Pick<OutboundMessage, 'accountId' | 'subaccountId' | 'provider' | 'credentials'>;

/** Why a send through a provider account is not even tried now. */
export type ProviderHold =
  /**
   * The account is not answering: its breaker refuses (open, or half open with its trial out), or
   * its compartment is full and its oldest send has been out for half its timeout (a hanging API).
   */
  | 'held-back'
  /**
   * Its compartment is full of sends the provider is still answering in time and as many wait for a
   * turn, or its Maskline account holds its share of the relay: a turn comes soon.
   */
  | 'busy';

/** A hold in words, for retry reasons. */
export function holdInWords(hold: ProviderHold): string {
  return hold === 'busy' ? 'busy' : 'held back';
}

export type SendOutcome =
  | { kind: 'sent'; providerMessageId: string | null }
  /**
   * Not taken, and worth asking again: 5xx, 429 (with its Retry-After), a timeout, no connection.
   * The request went out.
   */
  | { kind: 'retry'; reason: string; retryAfterMs: number | null; attempted: true }
  /** Not tried: the provider account is held back or busy (`hold`). */
  | { kind: 'retry'; reason: string; retryAfterMs: null; attempted: false; hold: ProviderHold }
  /** Refused for good (4xx other than 429). */
  | { kind: 'refused'; status: number };

/** The longest Retry-After honoured: a provider asking for more is asked again sooner, within the retries. */
const RETRY_AFTER_MAX_MS = 5 * 60_000;

/**
 * Sends a text through the number's provider REST API, from the virtual number, with the number's
 * credentials: Plivo's `POST /v1/Account/{auth_id}/Message/`, Twilio's
 * `POST /2010-04-01/Accounts/{sid}/Messages.json`. One breaker per provider account, so an account
 * whose API does not answer fails fast without slowing another's.
 */
@Injectable()
export class ProviderMessageSender implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly compartments: Bulkheads;
  /** Per Maskline account, its sends and waits through all its provider accounts (no waiting here). */
  private readonly tenants: Bulkheads;
  /** Per subaccount, its numbers' sends and waits: a share of its account's (no waiting here). */
  private readonly subaccounts: Bulkheads;
  private readonly http = new KeptAliveHttpClient();
  private readonly heldBack = new HeldBackSince();

  constructor(
    private readonly breakers: BreakerRegistry,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
    @Inject(CLOCK) private readonly now: Clock,
  ) {
    this.tenants = new Bulkheads(RELAY_SLOTS_PER_ACCOUNT, now, { maxWaiting: 0 });
    this.subaccounts = new Bulkheads(RELAY_SLOTS_PER_SUBACCOUNT, now, { maxWaiting: 0 });
    this.compartments = new Bulkheads(config.MESSAGE_SENDS_PER_PROVIDER_ACCOUNT, now, {
      maxWaiting: relayWaitersPerProviderAccount(config.MESSAGE_SENDS_PER_PROVIDER_ACCOUNT),
    });
  }

  /**
   * Messages waiting for a turn are told none came (they give their claims back and are retried,
   * here or on another replica), before the relay's grace runs out and the connections close.
   */
  beforeApplicationShutdown(): void {
    this.compartments.close();
  }

  onApplicationShutdown(): void {
    this.http.close();
  }

  /**
   * Sends in the provider account's compartment: an account whose API hangs holds at most
   * MESSAGE_SENDS_PER_PROVIDER_ACCOUNT sends of this replica (and as many waiting for a turn, briefly),
   * a Maskline account at most RELAY_SLOTS_PER_ACCOUNT through all its provider accounts (never every
   * relay slot), and one of its subaccounts at most RELAY_SLOTS_PER_SUBACCOUNT of those.
   */
  async send(message: OutboundMessage): Promise<SendOutcome> {
    const breaker = providerAccountBreaker(message);
    const compartment = breakerName(breaker);
    // A full compartment of an account that answers: wait for a turn, at most until its oldest send
    // would count as hanging (then it is held back, below).
    const waitMs = this.breakers.refusesNow(breaker)
      ? 0
      : this.hangingAfterMs() - this.compartments.oldestRunningMs(compartment);
    const send = () =>
      this.compartments.run(compartment, () => this.sendThrough(breaker, message), { waitMs });
    const { subaccountId } = message;
    const ran = await this.tenants.run(message.accountId, async () =>
      subaccountId ? admittedWithin(await this.subaccounts.run(subaccountId, send)) : send(),
    );
    if (!ran.admitted || !ran.value.admitted) {
      const hold = this.holdOf(message) ?? 'busy';
      return {
        kind: 'retry',
        reason: `provider account ${holdInWords(hold)}`,
        retryAfterMs: null,
        attempted: false,
        hold,
      };
    }
    return ran.value.value;
  }

  /**
   * Whether a send through this provider account would not even be tried now, and why (null: it
   * would be, or wait for a turn). A full compartment is not by itself a failing account: a healthy
   * one that takes a burst, or answers slowly, fills it too, and its messages only wait for a turn.
   * It is held back when its oldest send has been out for half OUTBOUND_TIMEOUT_MS; busy when as
   * many messages already wait as may. (A message waiting for such an account is asked again later
   * without touching its claim.)
   */
  holdOf(message: SendingAccount): ProviderHold | null {
    const breaker = providerAccountBreaker(message);
    const compartment = breakerName(breaker);
    const full = this.compartments.used(compartment) >= this.config.MESSAGE_SENDS_PER_PROVIDER_ACCOUNT;
    if (
      this.breakers.refusesNow(breaker) ||
      (full && this.compartments.oldestRunningMs(compartment) >= this.hangingAfterMs())
    ) {
      this.heldBack.seen(compartment, this.now());
      return 'held-back';
    }
    // Neither refused nor hanging, its breaker closed (not half open between failed trials): the
    // account's hold, if this replica saw one, is over.
    if (this.breakers.isClosed(breaker)) this.heldBack.over(compartment);
    // Full and answering: a message may wait for a turn, unless as many as may already do, or the
    // Maskline account (or the subaccount) already holds its share of the relay through all its
    // provider accounts.
    if (full && this.compartments.refuses(compartment)) return 'busy';
    if (message.subaccountId && this.subaccounts.refuses(message.subaccountId)) return 'busy';
    return this.tenants.refuses(message.accountId) ? 'busy' : null;
  }

  /**
   * How long this replica has seen the provider account held back (HeldBackSince): from the first
   * look that found it so until its provider answers a send; 0 when it is not held back.
   */
  heldBackForMs(account: SendingAccount): number {
    return this.heldBack.forMs(breakerName(providerAccountBreaker(account)), this.now());
  }

  /** A send out this long (half its timeout) says its provider account is not answering. */
  private hangingAfterMs(): number {
    return this.config.OUTBOUND_TIMEOUT_MS / 2;
  }

  private async sendThrough(breaker: TenantBreaker, message: OutboundMessage): Promise<SendOutcome> {
    const request = this.requestOf(message);
    let answer: HttpAnswer;
    try {
      answer = await this.breakers.fire(
        breaker,
        async () => {
          const a = await this.http.post(
            request.url,
            request.headers,
            request.body,
            this.config.OUTBOUND_TIMEOUT_MS,
          );
          // A provider that fails counts against its breaker; one that refuses the message does not.
          if (a.status >= 500 || a.status === 429) throw new ProviderBusy(a.status, header(a, 'retry-after'));
          return a;
        },
        {},
        { timeoutMs: this.config.OUTBOUND_TIMEOUT_MS + 1000 },
      );
    } catch (err) {
      if (err instanceof ProviderBusy) {
        return {
          kind: 'retry',
          reason: `HTTP ${err.status}`,
          retryAfterMs: retryAfterMs(err.retryAfter),
          attempted: true,
        };
      }
      if (err instanceof CodedError && err.code === ErrorCodes.CIRCUIT_OPEN) {
        this.heldBack.seen(breakerName(breaker), this.now());
        return {
          kind: 'retry',
          reason: 'breaker open',
          retryAfterMs: null,
          attempted: false,
          hold: 'held-back',
        };
      }
      const timedOut = err instanceof HttpTimeout;
      return {
        kind: 'retry',
        reason: timedOut ? 'timeout' : 'unreachable',
        retryAfterMs: null,
        attempted: true,
      };
    }
    // Answered: whatever it said, the account's hold (if it had one) is over.
    this.heldBack.over(breakerName(breaker));
    if (answer.status >= 300) return { kind: 'refused', status: answer.status };
    return { kind: 'sent', providerMessageId: providerIdOf(message.provider, answer.body) };
  }

  private requestOf(m: OutboundMessage) {
    const { accountId } = m.credentials;
    const authorization = providerAuthorization(m.credentials);
    if (m.provider === 'plivo') {
      return {
        url: providerApiUrl(this.config, 'plivo', accountId, 'message'),
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({
          src: toPlivoNumber(m.from),
          dst: toPlivoNumber(m.to),
          text: m.text,
          type: m.mediaUrls.length > 0 ? 'mms' : 'sms',
          ...(m.mediaUrls.length > 0 ? { media_urls: m.mediaUrls } : {}),
        }),
      };
    }
    const form = new URLSearchParams({ From: m.from, To: m.to, Body: m.text });
    for (const url of m.mediaUrls) form.append('MediaUrl', url);
    return {
      url: providerApiUrl(this.config, 'twilio', accountId, 'message'),
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    };
  }
}

class ProviderBusy extends Error {
  constructor(
    readonly status: number,
    readonly retryAfter: string | null,
  ) {
    super(`provider answered ${status}`);
  }
}

function header(answer: HttpAnswer, name: string): string | null {
  const value = answer.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, nowMs = Date.now()): number | null {
  if (!value) return null;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - nowMs;
  if (!Number.isFinite(ms) || ms < 0) return null;
  return Math.min(ms, RETRY_AFTER_MAX_MS);
}

/** The provider's id for the message it accepted (Plivo: message_uuid[0]; Twilio: sid). */
function providerIdOf(provider: TelephonyProvider, body: string): string | null {
  try {
    const json = JSON.parse(body) as { message_uuid?: unknown; sid?: unknown };
    const id = provider === 'plivo' && Array.isArray(json.message_uuid) ? json.message_uuid[0] : json.sid;
    return typeof id === 'string' ? id.slice(0, 64) : null;
  } catch {
    return null;
  }
}

/** Admission by two bulkheads, one within the other, as one: admitted only if both let it in. */
function admittedWithin<T>(
  outer: { admitted: true; value: { admitted: true; value: T } | { admitted: false } } | { admitted: false },
): { admitted: true; value: T } | { admitted: false } {
  return outer.admitted ? outer.value : { admitted: false };
}
