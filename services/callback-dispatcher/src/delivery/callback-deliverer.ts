import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import type { Logger } from 'pino';
import { KeyValueStores, RetryLater, kvDecode, kvEncode } from '@maskline/messaging';
import { UrlGuard, hostResolver } from '@maskline/net-guard';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { LOGGER, MetricsService } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import type { PlivoCallback } from '../events/plivo-callback';
import { CallbackRecords } from '../records/callback-records.repository';
import { CallbackSigner } from './callback-signer';
import { CallbackTargets, type CallbackTarget } from './callback-targets';
import { send, type SendResult } from './http-sender';
import { judge, retryDelayMs } from './retry-policy';

/** KV: delivered markers (a redelivered event is not sent twice) and attempt counts; kept 8 days. */
export const DELIVERY_STATE_BUCKET = 'maskline-callback-state';
const STATE_TTL_MS = 8 * 86400 * 1000;
const USER_AGENT = 'Maskline-Callbacks/1.0';

export interface DeliveryJob {
  /** Stable per event: receivers use it (X-Maskline-Event-Id) to drop duplicates. */
  eventId: string;
  callback: PlivoCallback;
  /** Plivo's SequenceNumber: the event's position on the stream, increasing per session. */
  sequence: number;
  publishedAt: Date;
  /** Where the attempt count lives: the event id, or event id + replay id for a replay. */
  attemptKey: string;
  /** The session's subaccount, once known: its dead letters are that subaccount's to see. */
  subaccountId?: string | null;
}

class RetryableSendFailure extends Error {
  constructor(readonly result: SendResult) {
    super('retryable delivery failure');
  }
}

/**
 * Delivers one callback attempt and decides the event's fate: delivered (ack), retry later (the
 * message is redelivered after a backoff, so a slow endpoint holds no consumer slot), or dead
 * letter (recorded before the event is acknowledged). Each destination host has its own breaker
 * and a cap on attempts in flight, so one failing endpoint cannot delay anyone else's callbacks.
 */
@Injectable()
export class CallbackDeliverer {
  private readonly guard: UrlGuard;
  private readonly inFlight = new Map<string, number>();
  private readonly accountInFlight = new Map<string, number>();
  private readonly maxAttempts: number;
  private readonly outcomes;
  private readonly latency;

  constructor(
    private readonly targets: CallbackTargets,
    private readonly signer: CallbackSigner,
    private readonly records: CallbackRecords,
    private readonly kv: KeyValueStores,
    private readonly breakers: BreakerRegistry,
    @Inject(CALLBACK_DISPATCHER_CONFIG) private readonly config: CallbackDispatcherConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.guard = new UrlGuard(config.CALLBACK_HOST_ALLOWLIST, hostResolver(config.DNS_SERVERS));
    this.maxAttempts = config.CALLBACK_RETRY_SCHEDULE_SECONDS.length + 1;
    this.outcomes = metrics.counter('maskline_callback_attempts_total', 'Callback attempts by outcome', [
      'outcome',
    ]);
    this.latency = metrics.histogram(
      'maskline_callback_event_to_delivery_seconds',
      'From the event being stored to its callback being delivered',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 120, 600, 3600, 86400],
    );
  }

  async deliver(job: DeliveryJob): Promise<void> {
    const { callback } = job;
    // The target first: it is cached, and most events of sessions without a callback URL end there.
    const target = await this.targets.get(callback.accountId, callback.sessionId);
    if (target) job.subaccountId = target.subaccountId;
    if (!target) {
      if (await this.isDelivered(job.eventId)) return;
      await this.deadLetter(job, '', 'the session no longer exists', 0);
      return;
    }
    const url = callback.target === 'session' ? target.callbackUrl : target.recordingCallbackUrl;
    if (!url) return;
    if (await this.isDelivered(job.eventId)) return;
    const method = callback.target === 'session' ? target.callbackMethod : target.recordingCallbackMethod;
    const params: Record<string, string> = { ...callback.params, SequenceNumber: String(job.sequence) };
    if (!params.VirtualNumber) params.VirtualNumber = toPlivoNumber(target.virtualNumber);

    const made = await this.attemptsMade(job.attemptKey);
    if (made >= this.maxAttempts) return this.deadLetter(job, url, `gave up after ${made} attempts`, made);
    if (Date.now() - job.publishedAt.getTime() > this.config.CALLBACK_MAX_AGE_SECONDS * 1000) {
      return this.deadLetter(job, url, `older than ${this.config.CALLBACK_MAX_AGE_SECONDS} s`, made);
    }
    // Each account gets a share of this replica's attempts (DNS included): one tenant's slow or
    // failing endpoints cannot hold every slot.
    const account = callback.accountId;
    if ((this.accountInFlight.get(account) ?? 0) >= this.config.CALLBACK_PER_ACCOUNT_CONCURRENCY) {
      throw new RetryLater(
        `account has ${this.config.CALLBACK_PER_ACCOUNT_CONCURRENCY} callbacks in flight`,
        500 + Math.random() * 1000,
      );
    }
    this.accountInFlight.set(account, (this.accountInFlight.get(account) ?? 0) + 1);
    try {
      return await this.attemptFor(job, target, url, method, params, made);
    } finally {
      const left = (this.accountInFlight.get(account) ?? 1) - 1;
      if (left > 0) this.accountInFlight.set(account, left);
      else this.accountInFlight.delete(account);
    }
  }

  private async attemptFor(
    job: DeliveryJob,
    target: CallbackTarget,
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    made: number,
  ): Promise<void> {
    const { callback } = job;
    const verdict = await this.guard.check(url);
    if (verdict.ok === false) return this.deadLetter(job, url, `callback URL ${verdict.reason}`, made);
    if (verdict.ok === 'unresolved') {
      // Perhaps a passing DNS failure: an attempt that failed, retried on the schedule; dead-lettered with this reason when none is left.
      return this.settle(job, url, method, made, {
        kind: 'network-error',
        latencyMs: 0,
        error: verdict.reason,
      });
    }

    const host = new URL(url).host;
    // Per account and host: a tenant's failing endpoint on a shared host (a webhook service) opens
    // its own breaker, not everyone's on that host.
    const hostKey = `${callback.accountId}:${host}`;
    const breaker = `host:${hostKey}`;
    if (this.breakers.isOpen(breaker)) {
      await this.attempt(job, url, method, made, 'circuit-open', null, null, `circuit open for ${host}`);
      throw new RetryLater(`circuit open for ${host}`, this.config.HOST_BREAKER_RESET_MS);
    }
    if ((this.inFlight.get(hostKey) ?? 0) >= this.config.CALLBACK_PER_HOST_CONCURRENCY) {
      throw new RetryLater(
        `${host} has ${this.config.CALLBACK_PER_HOST_CONCURRENCY} callbacks in flight`,
        500 + Math.random() * 1000,
      );
    }

    const query = new URLSearchParams(params).toString();
    const requestUrl = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
    const headers: Record<string, string> = {
      ...(await this.signer.headers(
        callback.accountId,
        target.subaccountId,
        method,
        requestUrl,
        method === 'POST' ? params : {},
      )),
      'User-Agent': USER_AGENT,
      'X-Maskline-Event-Id': job.eventId,
    };
    if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';

    this.inFlight.set(hostKey, (this.inFlight.get(hostKey) ?? 0) + 1);
    let result: SendResult;
    try {
      result = await this.breakers.fire(
        breaker,
        async () => {
          const r = await send({
            method,
            url: requestUrl,
            headers,
            body: method === 'POST' ? query : undefined,
            address: verdict.address,
            family: verdict.family,
            connectTimeoutMs: this.config.CALLBACK_CONNECT_TIMEOUT_MS,
            totalTimeoutMs: this.config.CALLBACK_TIMEOUT_MS,
            maxBodyBytes: this.config.CALLBACK_MAX_RESPONSE_BYTES,
          });
          if (judge(r).kind === 'retry') throw new RetryableSendFailure(r);
          return r;
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
      if (err instanceof RetryableSendFailure) result = err.result;
      else if (err instanceof CodedError && err.code === ErrorCodes.CIRCUIT_OPEN) {
        await this.attempt(job, url, method, made, 'circuit-open', null, null, `circuit open for ${host}`);
        throw new RetryLater(`circuit open for ${host}`, this.config.HOST_BREAKER_RESET_MS);
      } else
        result = {
          kind: 'network-error',
          latencyMs: 0,
          error: err instanceof Error ? err.message : String(err),
        };
    } finally {
      const left = (this.inFlight.get(hostKey) ?? 1) - 1;
      if (left > 0) this.inFlight.set(hostKey, left);
      else this.inFlight.delete(hostKey);
    }

    return this.settle(job, url, method, made, result);
  }

  /** Records an attempt's result and decides: delivered, retry later, or dead letter. */
  private async settle(
    job: DeliveryJob,
    url: string,
    method: 'GET' | 'POST',
    made: number,
    result: SendResult,
  ): Promise<void> {
    const attemptNo = made + 1;
    await this.setAttemptsMade(job.attemptKey, attemptNo);
    const decision = judge(result);
    const status = result.kind === 'response' ? result.statusCode : null;
    const error =
      result.kind === 'response' ? (decision.kind === 'delivered' ? null : decision.reason) : result.error;
    if (decision.kind === 'delivered') {
      await this.attempt(job, url, method, attemptNo, 'delivered', status, result.latencyMs, null);
      await this.markDelivered(job.eventId);
      this.latency.observe((Date.now() - job.publishedAt.getTime()) / 1000);
      return;
    }
    const last = decision.kind === 'terminal' || attemptNo >= this.maxAttempts;
    await this.attempt(
      job,
      url,
      method,
      attemptNo,
      last ? 'failed' : 'retry',
      status,
      result.latencyMs,
      error,
    );
    if (last) return this.deadLetter(job, url, error ?? decision.reason, attemptNo);
    const retryAfter = result.kind === 'response' ? result.retryAfterSeconds : undefined;
    throw new RetryLater(
      decision.reason,
      retryDelayMs(attemptNo, this.config.CALLBACK_RETRY_SCHEDULE_SECONDS, retryAfter),
    );
  }

  private async attempt(
    job: DeliveryJob,
    url: string,
    method: 'GET' | 'POST',
    attempt: number,
    outcome: 'delivered' | 'retry' | 'failed' | 'circuit-open',
    statusCode: number | null,
    latencyMs: number | null,
    error: string | null,
  ) {
    this.outcomes.inc({ outcome });
    await this.records.recordAttempt({
      eventId: job.eventId,
      eventName: job.callback.eventName,
      accountId: job.callback.accountId,
      sessionId: job.callback.sessionId,
      url,
      method,
      attempt,
      at: new Date(),
      outcome,
      statusCode,
      latencyMs,
      error,
    });
  }

  /** Recorded before the event is acknowledged: nothing is lost, it waits here for a replay. */
  private async deadLetter(job: DeliveryJob, url: string, reason: string, attempts: number): Promise<void> {
    await this.records.recordDeadLetter({
      _id: job.eventId,
      accountId: job.callback.accountId,
      subaccountId: job.subaccountId ?? null,
      sessionId: job.callback.sessionId,
      eventName: job.callback.eventName,
      target: job.callback.target,
      params: job.callback.params,
      sequence: job.sequence,
      url,
      reason,
      attempts,
      at: new Date(),
      replayedAt: null,
    });
    this.outcomes.inc({ outcome: 'dead-letter' });
    this.logger.warn(
      { eventId: job.eventId, sessionId: job.callback.sessionId, reason },
      'callback dead-lettered',
    );
  }

  private bucket() {
    return this.kv.bucket(DELIVERY_STATE_BUCKET, { ttlMs: STATE_TTL_MS });
  }

  private async isDelivered(eventId: string): Promise<boolean> {
    const entry = await (await this.bucket()).get(`d.${eventId}`);
    return entry !== null && entry.operation === 'PUT';
  }

  private async markDelivered(eventId: string): Promise<void> {
    await (await this.bucket()).put(`d.${eventId}`, kvEncode(Date.now()));
  }

  private async attemptsMade(key: string): Promise<number> {
    const entry = await (await this.bucket()).get(`a.${key}`);
    return entry && entry.operation === 'PUT' ? (kvDecode<number>(entry.value) ?? 0) : 0;
  }

  private async setAttemptsMade(key: string, n: number): Promise<void> {
    await (await this.bucket()).put(`a.${key}`, kvEncode(n));
  }
}
