import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { BreakerRegistry, type TenantBreaker } from '@maskline/resilience';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import { CallbackSigner } from './callback-signer';
import { sendPinned, type SendResult } from '@maskline/net-guard';
import { judge } from './retry-policy';

const USER_AGENT = 'Maskline-Callbacks/1.0';

export interface AttemptRequest {
  accountId: string;
  subaccountId: string | null;
  eventId: string;
  url: string;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  /** The address the SSRF guard approved: the connection goes there. */
  address: string;
  family: 4 | 6;
  /** Plivo's signature headers, or Twilio's (a Proxy Service's callback). */
  dialect: 'plivo' | 'twilio';
}

export type AttemptResult = SendResult | { kind: 'circuit-open'; host: string };

class RetryableSendFailure extends Error {
  constructor(readonly result: SendResult) {
    super('retryable delivery failure');
  }
}

/**
 * One HTTP attempt of a callback: signed as Plivo signs (Twilio, for a Proxy Service's callback), with the session owner's token, through
 * the breaker of its account and host (a tenant's failing endpoint on a shared host opens its own
 * breaker, not everyone's there), to the approved address.
 */
@Injectable()
export class CallbackAttempt {
  constructor(
    private readonly signer: CallbackSigner,
    private readonly breakers: BreakerRegistry,
    @Inject(CALLBACK_DISPATCHER_CONFIG) private readonly config: CallbackDispatcherConfig,
  ) {}

  /**
   * The breaker of the owner's callbacks to the URL's host: the account's, or a subaccount's own, so
   * that one subaccount failing on a host it shares with its siblings (a reseller's webhook host, a
   * platform's) on purpose opens no breaker for them.
   */
  breakerOf(accountId: string, subaccountId: string | null, url: string): TenantBreaker {
    return { family: 'host', key: `${accountId}/${subaccountId ?? ''}:${new URL(url).host}` };
  }

  async send(r: AttemptRequest): Promise<AttemptResult> {
    const host = new URL(r.url).host;
    const breaker = this.breakerOf(r.accountId, r.subaccountId, r.url);
    if (this.breakers.isOpen(breaker)) return { kind: 'circuit-open', host };
    const query = new URLSearchParams(r.params).toString();
    const requestUrl = r.method === 'GET' ? `${r.url}${r.url.includes('?') ? '&' : '?'}${query}` : r.url;
    const headers: Record<string, string> = {
      ...(r.dialect === 'twilio'
        ? await this.signer.twilioHeaders(
            r.accountId,
            r.subaccountId,
            requestUrl,
            r.method === 'POST' ? r.params : {},
          )
        : await this.signer.headers(
            r.accountId,
            r.subaccountId,
            r.method,
            requestUrl,
            r.method === 'POST' ? r.params : {},
          )),
      'User-Agent': USER_AGENT,
      'X-Maskline-Event-Id': r.eventId,
    };
    if (r.method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
    try {
      return await this.breakers.fire(
        breaker,
        async () => {
          const result = await sendPinned({
            method: r.method,
            url: requestUrl,
            headers,
            body: r.method === 'POST' ? query : undefined,
            address: r.address,
            family: r.family,
            connectTimeoutMs: this.config.CALLBACK_CONNECT_TIMEOUT_MS,
            totalTimeoutMs: this.config.CALLBACK_TIMEOUT_MS,
            maxBodyBytes: this.config.CALLBACK_MAX_RESPONSE_BYTES,
          });
          // Failures worth retrying count against the breaker; a receiver's 4xx does not.
          if (judge(result).kind === 'retry') throw new RetryableSendFailure(result);
          return result;
        },
        { isClientError: (err) => !(err instanceof RetryableSendFailure) && !(err instanceof CodedError) },
        {
          timeoutMs: this.config.CALLBACK_TIMEOUT_MS + 1000,
          errorThresholdPercentage: this.config.HOST_BREAKER_ERROR_PERCENT,
          resetTimeoutMs: this.config.HOST_BREAKER_RESET_MS,
          volumeThreshold: this.config.HOST_BREAKER_VOLUME,
        },
      );
    } catch (err) {
      if (err instanceof RetryableSendFailure) return err.result;
      if (err instanceof CodedError && err.code === ErrorCodes.CIRCUIT_OPEN)
        return { kind: 'circuit-open', host };
      return { kind: 'network-error', latencyMs: 0, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
