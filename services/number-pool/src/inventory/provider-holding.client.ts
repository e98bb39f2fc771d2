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
import { CLOCK, type Clock } from '@maskline/service-kit';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';

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
 * calls in are hung up as loops), or keep it from its holder. One breaker per Maskline account and
 * provider account; all of a request's questions share PROVIDER_ASK_ANSWER_MS.
 */
@Injectable()
export class ProviderHoldingClient implements OnApplicationShutdown {
  private readonly http = new KeptAliveHttpClient();

  constructor(
    private readonly breakers: BreakerRegistry,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationShutdown(): void {
    this.http.close();
  }

  /**
   * Resolves when the provider says the account holds every number; otherwise throws
   * POOL.NUMBER_NOT_HELD (naming the first it does not hold), POOL.PROVIDER_CREDENTIALS_REFUSED, or
   * POOL.PROVIDER_UNAVAILABLE (no clear answer in time). Stops asking at the first that fails.
   */
  async confirmHeld(question: HoldingQuestion): Promise<void> {
    const deadline = this.clock() + PROVIDER_ASK_ANSWER_MS;
    const queue = [...question.numbers];
    let failed = false;
    const worker = async () => {
      while (!failed && queue.length > 0) {
        const number = queue.shift() as string;
        try {
          await this.confirmOne(question, number, deadline);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, queue.length) }, worker));
  }

  private async confirmOne(question: HoldingQuestion, number: string, deadline: number): Promise<void> {
    const answer = await this.ask(question, number, deadline);
    if (answer.status === 401 || answer.status === 403) {
      throw new CodedError(
        PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED,
        `provider_auth_id / provider_auth_token: ${question.provider} refused these credentials`,
        { field: 'provider_auth_token' },
      );
    }
    const held = heldIn(question.provider, number, answer);
    if (held === null) throw unavailable(question, `answered HTTP ${answer.status}`);
    if (!held) {
      throw new CodedError(
        PoolErrorCodes.NUMBER_NOT_HELD,
        `numbers: ${number} is not held by ${question.provider} account ${question.credentials.accountId} (only a number that account holds may be added with its credentials)`,
        { field: 'numbers' },
      );
    }
  }

  private async ask(question: HoldingQuestion, number: string, deadline: number): Promise<HttpAnswer> {
    const url = providerNumberUrl(this.config, question.provider, question.credentials.accountId, number);
    const headers = {
      authorization: providerAuthorization(question.credentials),
      accept: 'application/json',
    };
    const timeoutMs = deadline - this.clock();
    if (timeoutMs <= 0) throw unavailable(question, 'did not answer in time');
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
      if (err instanceof ProviderFailed) throw unavailable(question, `answered HTTP ${err.status}`);
      if (err instanceof CodedError && err.code === ErrorCodes.CIRCUIT_OPEN) {
        throw unavailable(question, 'failed lately, and is given a rest');
      }
      if (err instanceof HttpTimeout) throw unavailable(question, 'did not answer in time');
      throw unavailable(question, 'could not be reached');
    }
  }
}

class ProviderFailed extends Error {
  constructor(readonly status: number) {
    super(`provider answered ${status}`);
  }
}

function unavailable(question: HoldingQuestion, why: string): CodedError {
  return new CodedError(
    PoolErrorCodes.PROVIDER_UNAVAILABLE,
    `${question.provider} did not confirm that account ${question.credentials.accountId} holds the numbers (it ${why}); nothing was changed, try again`,
    { retryable: true },
  );
}

/**
 * What the provider's answer says: held (true), not held (false), or nothing clear (null). Plivo
 * answers the number (200) or 404; Twilio a list filtered by the number, which it may fill with
 * partial matches, so only an entry that is the number itself counts.
 */
export function heldIn(provider: TelephonyProvider, number: string, answer: HttpAnswer): boolean | null {
  if (answer.status === 404) return false;
  if (answer.status !== 200) return null;
  if (provider === 'plivo') return true;
  try {
    const list = (JSON.parse(answer.body) as { incoming_phone_numbers?: unknown }).incoming_phone_numbers;
    if (!Array.isArray(list)) return null;
    return list.some((n) => (n as { phone_number?: unknown } | null)?.phone_number === number);
  } catch {
    return null;
  }
}
