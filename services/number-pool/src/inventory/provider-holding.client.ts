import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  CodedError,
  ErrorCodes,
  PROVIDER_ASK_ANSWER_MS,
  PoolErrorCodes,
  type ProviderCredentials,
  type TelephonyProvider,
} from '@maskline/contracts';
import {
  HttpTimeout,
  KeptAliveHttpClient,
  providerAccountBreaker,
  providerAuthorization,
  providerNumberUrl,
  type HttpAnswer,
} from '@maskline/net-guard';
import { BreakerRegistry } from '@maskline/resilience';
import { LOGGER } from '@maskline/observability';
import type { Logger } from 'pino';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import type { Holding } from './provider-holding';

/** Questions one request asks its provider at once (a request adds at most 100 numbers). */
const AT_ONCE = 8;

export interface HoldingQuestion {
  /** The Maskline account asking: its breaker is never another tenant's. */
  accountId: string;
  provider: TelephonyProvider;
  credentials: ProviderCredentials;
  /** E.164. */
  numbers: readonly string[];
}

/**
 * Asks the number's provider whether the account the credentials name holds it: Plivo's
 * `GET /v1/Account/{auth_id}/Number/{number}/`, Twilio's
 * `GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber=`. Without that answer a
 * tenant could add any phone as its "number" and have it taken for one of Maskline's own (whose
 * calls in are hung up as loops). One breaker per Maskline account and provider account; all of a
 * request's questions share PROVIDER_ASK_ANSWER_MS.
 */
@Injectable()
export class ProviderHoldingClient implements OnApplicationShutdown {
  private readonly http = new KeptAliveHttpClient();

  constructor(
    private readonly breakers: BreakerRegistry,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationShutdown(): void {
    this.http.close();
  }

  /**
   * For a number being added or given new credentials: whether the provider confirmed each one
   * (true) or the account lists it only as its own carrier's (false). Throws POOL.NUMBER_NOT_HELD
   * (naming the first it does not hold), or what `holdings` throws.
   */
  async requireHeld(question: HoldingQuestion): Promise<Map<string, boolean>> {
    const holdings = await this.holdings(question);
    const confirmed = new Map<string, boolean>();
    for (const number of question.numbers) {
      const holding = holdings.get(number);
      if (holding === 'not-held') {
        throw new CodedError(
          PoolErrorCodes.NUMBER_NOT_HELD,
          `numbers: ${number} is not held by ${question.provider} account ${question.credentials.accountId} (only a number that account holds may be added with its credentials)`,
          { field: 'numbers' },
        );
      }
      confirmed.set(number, holding === 'confirmed');
    }
    return confirmed;
  }

  /**
   * What the provider says of each number, AT_ONCE questions at a time. Throws
   * POOL.PROVIDER_CREDENTIALS_REFUSED, or POOL.PROVIDER_UNAVAILABLE (no clear answer in time), at
   * the first question that gets one, and asks no more.
   */
  async holdings(question: HoldingQuestion): Promise<Map<string, Holding>> {
    // Real time: how long the provider is waited for (the injected clock is the domain's).
    const deadline = performance.now() + PROVIDER_ASK_ANSWER_MS;
    const queue = [...question.numbers];
    const holdings = new Map<string, Holding>();
    let failed = false;
    const worker = async () => {
      while (!failed && queue.length > 0) {
        const number = queue.shift() as string;
        try {
          holdings.set(number, await this.holdingOf(question, number, deadline));
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, queue.length) }, worker));
    return holdings;
  }

  private async holdingOf(question: HoldingQuestion, number: string, deadline: number): Promise<Holding> {
    const answer = await this.ask(question, number, deadline);
    if (answer.status === 401 || answer.status === 403) {
      throw new CodedError(
        PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED,
        `provider_auth_id / provider_auth_token: ${question.provider} refused these credentials`,
        { field: 'provider_auth_token' },
      );
    }
    const holding = holdingIn(question.provider, number, answer);
    if (holding === null) throw this.unavailable(question, `answered HTTP ${answer.status}`);
    return holding;
  }

  private async ask(question: HoldingQuestion, number: string, deadline: number): Promise<HttpAnswer> {
    const url = providerNumberUrl(this.config, question.provider, question.credentials.accountId, number);
    const headers = {
      authorization: providerAuthorization(question.credentials),
      accept: 'application/json',
    };
    const timeoutMs = Math.floor(deadline - performance.now());
    if (timeoutMs <= 0) throw this.unavailable(question, 'did not answer in time');
    try {
      return await this.breakers.fire(
        providerAccountBreaker(question),
        async () => {
          const answer = await this.http.get(url, headers, timeoutMs);
          // A provider that fails counts against its breaker; one that answers (even "no") does not.
          if (answer.status >= 500 || answer.status === 429) throw new ProviderFailed(answer.status);
          return answer;
        },
        {},
        { timeoutMs: PROVIDER_ASK_ANSWER_MS + 1000 },
      );
    } catch (err) {
      if (err instanceof ProviderFailed) throw this.unavailable(question, `answered HTTP ${err.status}`);
      if (err instanceof CodedError && err.code === ErrorCodes.CIRCUIT_OPEN) {
        throw this.unavailable(question, 'failed lately, and is given a rest');
      }
      if (err instanceof HttpTimeout) throw this.unavailable(question, 'did not answer in time');
      throw this.unavailable(question, 'could not be reached', err);
    }
  }

  /** Logged with its cause (the credentials are never part of it): an operator sees a provider fail. */
  private unavailable(question: HoldingQuestion, why: string, cause?: unknown): CodedError {
    this.logger.warn(
      {
        provider: question.provider,
        providerAccountId: question.credentials.accountId,
        why,
        cause:
          cause instanceof Error
            ? { name: cause.name, code: (cause as NodeJS.ErrnoException).code }
            : undefined,
      },
      'a provider did not say whether its account holds a number',
    );
    return new CodedError(
      PoolErrorCodes.PROVIDER_UNAVAILABLE,
      `${question.provider} did not confirm that account ${question.credentials.accountId} holds the numbers (it ${why}); nothing was changed, try again`,
      { retryable: true },
    );
  }
}

class ProviderFailed extends Error {
  constructor(readonly status: number) {
    super(`provider answered ${status}`);
  }
}

/**
 * What the provider's answer says (null: nothing clear). Plivo answers the number (200), naming it,
 * with its carrier: "Plivo" for a number rented from Plivo, else the account's own carrier, which
 * Plivo takes on the account's word; or 404. Twilio answers a list filtered by the number, which it
 * may fill with partial matches, so only an entry that is the number itself counts.
 */
export function holdingIn(provider: TelephonyProvider, number: string, answer: HttpAnswer): Holding | null {
  if (answer.status === 404) return 'not-held';
  if (answer.status !== 200) return null;
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return null;
  }
  if (provider === 'plivo') {
    const n = json as { number?: unknown; carrier?: unknown } | null;
    if (typeof n?.number !== 'string' || `+${n.number.replace(/^\+/, '')}` !== number) return null;
    // Exactly Plivo's own name: a carrier an account brings is named by the account (whether Plivo
    // lets one be named "Plivo" is not verified here: docs/security-model.md).
    return n.carrier === 'Plivo' ? 'confirmed' : 'unconfirmed';
  }
  const list = (json as { incoming_phone_numbers?: unknown } | null)?.incoming_phone_numbers;
  if (!Array.isArray(list)) return null;
  return list.some((n) => (n as { phone_number?: unknown } | null)?.phone_number === number)
    ? 'confirmed'
    : 'not-held';
}
