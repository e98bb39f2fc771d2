import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { accountSidOf, subaccountShare, type InteractionEnd } from '@maskline/contracts';
import { EventRetention, RetryLater } from '@maskline/messaging';
import { UrlGuard, hostResolver } from '@maskline/net-guard';
import { LOGGER, MetricsService } from '@maskline/observability';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { Bulkheads, breakerName } from '@maskline/resilience';
import { CLOCK, type Clock } from '@maskline/service-kit';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import type { PlivoCallback } from '../events/plivo-callback';
import type { TwilioCallback } from '../events/twilio-callback';
import { CallbackAttempts } from '../records/callback-attempts.repository';
import type { DeadLetterDocument } from '../records/callback-records.schema';
import { RecordingUrlOpener } from '../events/recording-url-opener';
import { DeadLetters } from '../records/dead-letters.repository';
import { CallbackAttempt } from './callback-attempt';
import { CallbackHostSlots } from './callback-host-slots';
import { CallbackTargets, type CallbackTarget } from './callback-targets';
import { DeliveryLedger, type DeliveredAttempt } from './delivery-ledger';
import {
  FORGOTTEN_BEFORE_RETRY,
  LOST_BEFORE_RETRY,
  PUT_OFF_TOO_OFTEN,
  afterAttempt,
  beforeAttempt,
  unlessForgotten,
  type DeliveryRules,
} from './delivery-state-machine';
import { LostRetryWatch, type WatchEntry, type WatchedRetry } from './lost-retry-watch';
import { StoredInteractionGate } from './stored-interaction-gate';
import type { SendResult } from '@maskline/net-guard';

export interface DeliveryJob {
  /** Stable per event: receivers use it (X-Maskline-Event-Id) to drop duplicates. */
  eventId: string;
  callback: PlivoCallback;
  /**
   * Plivo's SequenceNumber: when the event was stored on the stream, in microseconds (increasing per
   * session, as the stream's order). Never the stream's sequence: its gaps would tell a tenant how
   * many events every other tenant caused in between.
   */
  sequence: number;
  publishedAt: Date;
  /**
   * The position on the event stream of the message that carries the job (the event, or a replay's
   * request): what the stream must still hold for a retry to come (`LostRetryWatch`).
   */
  streamSequence: number;
  /** Where the attempt count lives: the event id, or event id + replay id for a replay. */
  attemptKey: string;
  /**
   * The message's last delivery (CALLBACK_MAX_DELIVERIES): put off again, it would be given up
   * unseen, so it is dead-lettered instead.
   */
  lastDelivery?: boolean;
  /**
   * The message's first delivery to the dispatchers (of the event, or of the replay's request):
   * when it is also younger than the first retry's delay, no attempt can have been made under
   * `attemptKey`, so its count is not read (a KV read that missed, for nearly every callback). The
   * delivered marker is read always.
   */
  firstDelivery?: boolean;
  /** The session's subaccount, once known: its dead letters are that subaccount's to see. */
  subaccountId?: string | null;
  /** What a Twilio Proxy session's Service hears of the event instead, if anything. */
  twilio?: TwilioCallback;
  /** How the callback is worded and signed (set once the target is known). */
  dialect?: 'plivo' | 'twilio';
  /**
   * The interaction the event ends, if it ends one, and which delivery of the event this is: its
   * first attempt waits until that end is stored (`StoredInteractionGate`).
   */
  endOf?: InteractionEnd & { deliveryCount: number };
}

/** How an attempt is written down. */
type AttemptRecord = {
  attempt: number;
  outcome: 'delivered' | 'retry' | 'failed' | 'circuit-open';
  statusCode: number | null;
  latencyMs: number | null;
  error: string | null;
};

/**
 * Deliveries of one event to the dispatchers before the consumer gives it up: its last one
 * dead-letters a callback put off again (`DeliveryJob.lastDelivery`). Hours of busy put-offs
 * (seconds each); the retry schedule's own attempts are a handful.
 */
export const CALLBACK_MAX_DELIVERIES = 10_000;

/**
 * A callback put off when its event is this old, or will be when it comes again, is written down
 * (`LostRetryWatch`), so that one whose event the stream forgets first (a flood after it was put
 * off) is dead-lettered instead of lost unseen. Younger, the stream's turnover is judged when it is
 * put off (`EventRetention.keeps`).
 */
export const LOST_WATCH_FROM_MS = 10 * 60_000;

/**
 * Replicas' clocks differ: a callback's watch is looked for this much younger than it can have one
 * (as far off as a clock may be before MasklineClockOff fires).
 */
const CLOCK_MARGIN_MS = 5 * 60_000;

/** A delivery's watch, looked up at most once: none until it is. */
interface WatchSeen {
  /** `unknown`: the lookup failed (NATS), so nothing is written over what may be there. */
  lookup?: Promise<WatchEntry | null | 'unknown'>;
}

/** An attempt failed and its retry is scheduled: with the attempts made, for the watch that waits for it. */
class AttemptRetried extends RetryLater {
  constructor(
    reason: string,
    delayMs: number,
    readonly attempts: number,
  ) {
    super(reason, delayMs);
  }
}

/** A short random wait before trying a full compartment again. */
const busyDelayMs = () => 500 + Math.random() * 1000;

/**
 * How long a callback waits in this replica for a turn of its account's when they are all taken,
 * before it is redelivered later. Sent
 * back at once, a busy account's callbacks came back again and again, each time decoded, looked up
 * and refused anew: under load that work took the dispatcher's CPU from the sends, which made the
 * account busier still (a soak at 20 sessions a second fell behind and did not recover).
 * At most half CALLBACK_PER_ACCOUNT_CONCURRENCY wait per account.
 */
const ACCOUNT_TURN_WAIT_MS = 2000;

/**
 * Delivers one callback attempt and decides the event's fate (`delivery-state-machine.ts`):
 * delivered (ack), retry later (the message is redelivered after a backoff, so a slow endpoint
 * holds no consumer slot), or dead letter (recorded before the event is acknowledged). Each account
 * has a share of this replica's attempts, and each account and host its own breaker and a cap on
 * attempts in flight that holds across replicas, so one tenant's failing endpoint cannot delay
 * anyone else's callbacks nor be hit harder because the dispatcher scaled out.
 */
@Injectable()
export class CallbackDeliverer {
  private readonly guard: UrlGuard;
  private readonly perAccount: Bulkheads;
  /** Within the account's, a subaccount's own share of them (`subaccountShare`; none waiting there). */
  private readonly perSubaccount: Bulkheads;
  private readonly rules: DeliveryRules;
  private readonly outcomes;
  private readonly latency;
  private readonly unwatched;

  constructor(
    private readonly targets: CallbackTargets,
    private readonly ledger: DeliveryLedger,
    private readonly attempts: CallbackAttempt,
    private readonly attemptRecords: CallbackAttempts,
    private readonly deadLetters: DeadLetters,
    @Inject(CALLBACK_DISPATCHER_CONFIG) private readonly config: CallbackDispatcherConfig,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
    private readonly perHost: CallbackHostSlots,
    private readonly gate: StoredInteractionGate,
    private readonly retention: EventRetention,
    private readonly lostRetries: LostRetryWatch,
    private readonly recordingUrls: RecordingUrlOpener,
  ) {
    this.guard = new UrlGuard(config.CALLBACK_HOST_ALLOWLIST, hostResolver(config.DNS_SERVERS));
    // Half as many again may wait for a turn: an account's running and waiting callbacks hold at
    // most 24 of the consumer's 64 by default, so other accounts keep the rest.
    this.perAccount = new Bulkheads(config.CALLBACK_PER_ACCOUNT_CONCURRENCY, now, {
      maxWaiting: Math.max(1, Math.floor(config.CALLBACK_PER_ACCOUNT_CONCURRENCY / 2)),
    });
    // One subaccount whose endpoints answer slowly on purpose holds half at most: its main account's
    // and siblings' callbacks keep the rest, where it could hold them all (put off for hours, then
    // dead-lettered).
    // None waits at a subaccount's own turns (its callbacks waiting for the account's count among
    // the account's waiting): an account's running and waiting stay within its 24, however many
    // subaccounts it has.
    this.perSubaccount = new Bulkheads(subaccountShare(config.CALLBACK_PER_ACCOUNT_CONCURRENCY), now, {
      maxWaiting: 0,
    });
    this.rules = {
      retryScheduleSeconds: config.CALLBACK_RETRY_SCHEDULE_SECONDS,
      maxAgeSeconds: config.CALLBACK_MAX_AGE_SECONDS,
    };
    this.outcomes = metrics.counter('maskline_callback_attempts_total', 'Callback attempts by outcome', [
      'outcome',
    ]);
    this.latency = metrics.histogram(
      'maskline_callback_event_to_delivery_seconds',
      'From the event being stored to its callback being delivered',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 120, 600, 3600, 86400],
    );
    this.unwatched = metrics.counter(
      'maskline_callback_watches_refused_total',
      'Callbacks put off unwatched: their account had taken its share of the watch bucket (CALLBACK_WATCHES_ACCOUNT_PERCENT)',
      [],
    );
  }

  /**
   * Delivers, dead-letters or drops the job's callback (then its watch goes, if it has one), or puts
   * it off (thrown; then its watch stays, written down or brought up to date if it is old enough):
   * so a watch left once the stream has forgotten its event is a retry that never came
   * (`LostRetrySweeper`).
   */
  async deliver(job: DeliveryJob): Promise<void> {
    const seen = this.watchOfOld(job);
    await this.deliverWatched(job, seen);
    await this.unwatch(job, seen);
  }

  /** A replay whose dead letter is gone: nothing to deliver, and its watch, if any, goes. */
  async nothingToDeliver(
    job: Pick<DeliveryJob, 'eventId' | 'attemptKey' | 'publishedAt' | 'streamSequence'>,
  ): Promise<void> {
    await this.unwatch(job, this.watchOfOld(job));
  }

  /**
   * The job's watch looked up, beside what the delivery reads first (not after it), when its event
   * is old enough to have one (with a margin for clocks); none looked up otherwise.
   */
  private watchOfOld(job: Pick<DeliveryJob, 'eventId' | 'attemptKey' | 'publishedAt' | 'streamSequence'>) {
    const seen: WatchSeen = {};
    if (this.now() - job.publishedAt.getTime() >= LOST_WATCH_FROM_MS - CLOCK_MARGIN_MS) {
      void this.lookFor(job, seen);
    }
    return seen;
  }

  /**
   * Looks the job's watch up (once): the one at its event's position, if it is this job's (a stream
   * made again numbers its events anew, and another's watch may be there).
   */
  private lookFor(
    job: Pick<DeliveryJob, 'eventId' | 'attemptKey' | 'streamSequence'>,
    seen: WatchSeen,
  ): Promise<WatchEntry | null | 'unknown'> {
    seen.lookup ??= this.lostRetries.of(job.streamSequence).then(
      (entry) =>
        entry?.retry?.eventId === job.eventId && entry.retry.attemptKey === job.attemptKey ? entry : null,
      (err: unknown) => {
        this.logger.warn({ err, eventId: job.eventId }, 'could not look up the watch of a callback');
        return 'unknown' as const;
      },
    );
    return seen.lookup;
  }

  /** The callback ended: its watch goes (should NATS not take that, the sweep finds it delivered, or dead-lettered). */
  private async unwatch(job: Pick<DeliveryJob, 'eventId'>, seen: WatchSeen): Promise<void> {
    const watch = await seen.lookup;
    if (!watch || watch === 'unknown') return;
    await this.lostRetries.forget([watch]).catch((err: unknown) => {
      this.logger.warn({ err, eventId: job.eventId }, 'could not remove the watch of a callback that ended');
    });
  }

  private async deliverWatched(plivoJob: DeliveryJob, seen: WatchSeen): Promise<void> {
    // The target first: it is cached, and most events of sessions without a callback URL end there.
    const target = await this.targets.get(plivoJob.callback.accountId, plivoJob.callback.sessionId);
    if (!target) {
      const delivered = await this.ledger.delivered(plivoJob.eventId);
      if (!delivered) await this.deadLetter(plivoJob, '', 'the session no longer exists', 0);
      else if (delivered.attempt) await this.recordDelivered(plivoJob, delivered.at, delivered.attempt);
      return;
    }
    // A Twilio Proxy session's Service hears its interactions only, in Twilio's words.
    const job = target.proxyServiceSid ? asTwilio(plivoJob, target.proxyServiceSid, target) : plivoJob;
    if (!job) return;
    const { callback } = job;
    job.subaccountId = target.subaccountId;
    const url = callback.target === 'session' ? target.callbackUrl : target.recordingCallbackUrl;
    if (!url) return;
    const delivered = await this.ledger.delivered(job.eventId);
    if (delivered) {
      // Delivered already: sent again, never. Its attempt's record, if the store did not take it then, now.
      if (delivered.attempt) await this.recordDelivered(job, delivered.at, delivered.attempt);
      return;
    }
    const method = callback.target === 'session' ? target.callbackMethod : target.recordingCallbackMethod;
    const params: Record<string, string> = { ...callback.params };
    if (job.dialect !== 'twilio') {
      // This attempt's copy only: what is kept of the callback holds the recording's URL sealed.
      this.recordingUrls.openInto(callback, params);
      params.SequenceNumber = String(job.sequence);
      if (!params.VirtualNumber) params.VirtualNumber = toPlivoNumber(target.virtualNumber);
    }

    const made = this.noAttemptYet(job) ? 0 : await this.ledger.attemptsMade(job.attemptKey);
    // Attempts made: it may have been put off with a watch though its event is young (a consumer
    // made anew delivers a message before its delay is out; clocks differ).
    if (made > 0) void this.lookFor(job, seen);
    try {
      await this.attemptWhenDue(job, target, url, method, params, made);
    } catch (err) {
      // Put off (busy, a breaker open, not stored yet, an attempt failed) past what the event stream
      // will still hold: a retry it forgets never comes, so the callback waits for a replay instead.
      if (err instanceof RetryLater && !this.retention.keeps(job.publishedAt, err.delayMs)) {
        return this.deadLetter(job, url, `${err.reason}; ${FORGOTTEN_BEFORE_RETRY}`, made);
      }
      // Its last delivery: put off again, the consumer would give it up with no letter to replay.
      if (err instanceof RetryLater && job.lastDelivery) {
        return this.deadLetter(job, url, `${err.reason}; ${PUT_OFF_TOO_OFTEN}`, made);
      }
      await this.keepWatched(job, url, made, err, seen);
      throw err;
    }
  }

  /**
   * Put off (or failed, to be redelivered) when its event is old enough: written down
   * (`LostRetryWatch`) the first time, and again when an attempt failed, so that a callback whose
   * event the stream forgets before it comes again is dead-lettered, not lost unseen. A breaker open
   * for hours puts a callback off every HOST_BREAKER_RESET_MS: one write, then reads.
   */
  private async keepWatched(
    job: DeliveryJob,
    url: string,
    made: number,
    err: unknown,
    seen: WatchSeen,
  ): Promise<void> {
    const now = this.now();
    const delayMs = err instanceof RetryLater ? err.delayMs : 0;
    if (now + delayMs - job.publishedAt.getTime() < LOST_WATCH_FROM_MS) return;
    // What is there first, looked up now if it was not (so a watch is never written twice, nor
    // charged twice); unknown (NATS), nothing is written over it.
    const watch = await this.lookFor(job, seen);
    if (watch === 'unknown') return;
    const failed = err instanceof AttemptRetried;
    const attempts = failed ? err.attempts : made;
    if (watch?.retry && watch.retry.attempts === attempts && watch.retry.url === url) return;
    const watched: WatchedRetry = {
      eventId: job.eventId,
      attemptKey: job.attemptKey,
      attempts,
      url,
      callback: job.callback,
      sequence: job.sequence,
      subaccountId: job.subaccountId ?? null,
      failedAt: failed ? now : (watch?.retry?.failedAt ?? now),
    };
    // Unwatched (NATS unavailable, or its account's share of the bucket taken), it is still put off
    // as it should be, and its loss would go unseen, as before watches.
    const written = await this.lostRetries
      .watch(job.streamSequence, watched, watch)
      .catch((watchErr: unknown) => {
        this.logger.warn({ err: watchErr, eventId: job.eventId }, 'could not write down a callback put off');
        return true;
      });
    if (!written) this.unwatched.inc();
  }

  /** The attempt, once its interaction is stored and it is not too old, in its account's turn. */
  private async attemptWhenDue(
    job: DeliveryJob,
    target: CallbackTarget,
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    made: number,
  ): Promise<void> {
    const { callback } = job;
    // About an interaction's end, to an endpoint, not sent yet: once session-service has it stored.
    if (made === 0 && job.endOf) {
      const { deliveryCount, ...end } = job.endOf;
      await this.gate.clear(end, deliveryCount, job.publishedAt, this.now());
    }
    const before = beforeAttempt(this.rules, made, job.publishedAt.getTime(), this.now());
    if (before.kind === 'dead-letter') return this.deadLetter(job, url, before.reason, made);

    // Each account gets a share of this replica's attempts (DNS included), and each of its
    // subaccounts half of that, waited for briefly; what the attempt's outcome asks (its records, its
    // fate) is done after its turn is handed on.
    const waitUntil = this.now() + ACCOUNT_TURN_WAIT_MS;
    const inAccount = () =>
      this.perAccount.run(callback.accountId, () => this.attempt(job, target, url, method, params, made), {
        waitMs: Math.max(0, waitUntil - this.now()),
      });
    const ran = target.subaccountId
      ? await this.perSubaccount
          .run(`${callback.accountId}/${target.subaccountId}`, inAccount)
          .then((r) => (r.admitted ? r.value : r))
      : await inAccount();
    if (!ran.admitted) {
      throw new RetryLater(
        `account has ${this.config.CALLBACK_PER_ACCOUNT_CONCURRENCY} callbacks in flight`,
        busyDelayMs(),
      );
    }
    await ran.value();
  }

  /**
   * No attempt can have been made under the job's key: its message's first delivery, published less
   * than the first retry's delay ago. A consumer made anew delivers every message again as a first
   * delivery; an older one may have had its tries (all of them, and its dead letter), so its count
   * is read, never started again.
   */
  private noAttemptYet(job: DeliveryJob): boolean {
    const firstRetryMs = (this.rules.retryScheduleSeconds[0] ?? 0) * 1000;
    return job.firstDelivery === true && this.now() - job.publishedAt.getTime() < firstRetryMs;
  }

  /**
   * One attempt: the URL checked, the callback sent in a turn of its host's. Answers what its
   * outcome asks (recorded, retried, dead-lettered), done by the caller once this account's turn is
   * handed on.
   */
  private async attempt(
    job: DeliveryJob,
    target: CallbackTarget,
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    made: number,
  ): Promise<() => Promise<void>> {
    const { callback } = job;
    const verdict = await this.guard.check(url);
    if (verdict.ok === false) return () => this.deadLetter(job, url, `callback URL ${verdict.reason}`, made);
    // A host that does not resolve now may later: an attempt that failed, retried on the schedule.
    if (verdict.ok === 'unresolved') {
      return () =>
        this.settle(job, url, method, made, {
          kind: 'network-error',
          latencyMs: 0,
          error: verdict.reason,
        });
    }
    const hostKey = this.attempts.breakerOf(callback.accountId, target.subaccountId, url);
    const ran = await this.perHost.run(breakerName(hostKey), () =>
      this.attempts.send({
        accountId: callback.accountId,
        subaccountId: target.subaccountId,
        eventId: job.eventId,
        url,
        method,
        params,
        address: verdict.address,
        family: verdict.family,
        dialect: job.dialect ?? 'plivo',
      }),
    );
    if (!ran.admitted) {
      throw new RetryLater(
        `${new URL(url).host} has ${this.config.CALLBACK_PER_HOST_CONCURRENCY} callbacks in flight`,
        busyDelayMs(),
      );
    }
    const result = ran.value;
    if (result.kind === 'circuit-open') {
      const error = `circuit open for ${result.host}`;
      this.outcomes.inc({ outcome: 'circuit-open' });
      return async () => {
        await this.record(job, url, method, {
          attempt: made,
          outcome: 'circuit-open',
          statusCode: null,
          latencyMs: null,
          error,
        });
        throw new RetryLater(error, this.config.HOST_BREAKER_RESET_MS);
      };
    }
    return () => this.settle(job, url, method, made, result);
  }

  /** Writes the attempt down and carries out what the state machine decides. */
  private async settle(
    job: DeliveryJob,
    url: string,
    method: 'GET' | 'POST',
    made: number,
    result: SendResult,
  ): Promise<void> {
    const next = unlessForgotten(afterAttempt(this.rules, made, result), (delayMs) =>
      this.retention.keeps(job.publishedAt, delayMs),
    );
    // A delivered callback's count is its marker's (with the attempt): no other write.
    if (next.kind !== 'delivered') await this.ledger.setAttemptsMade(job.attemptKey, next.attempt);
    const latencyMs = result.latencyMs;
    if (next.kind === 'delivered') {
      // Delivered is written down first, in KV, with the attempt: should the store not take the
      // attempt's record now, the redelivery writes it and sends nothing. (The record first, a store
      // pause had every callback delivered during it sent again.)
      const at = this.now();
      const attempt = {
        eventName: job.callback.eventName,
        url,
        method,
        attempt: next.attempt,
        statusCode: next.statusCode,
        latencyMs,
      };
      this.outcomes.inc({ outcome: 'delivered' });
      this.latency.observe((at - job.publishedAt.getTime()) / 1000);
      await this.ledger.markDelivered(job.eventId, { at, attempt });
      await this.recordDelivered(job, at, attempt);
      return;
    }
    const outcome = next.kind === 'retry' ? 'retry' : 'failed';
    this.outcomes.inc({ outcome });
    await this.record(job, url, method, {
      attempt: next.attempt,
      outcome,
      statusCode: next.statusCode,
      latencyMs,
      error: next.reason,
    });
    if (next.kind === 'dead-letter') return this.deadLetter(job, url, next.reason, next.attempt);
    throw new AttemptRetried(next.reason, next.delayMs, next.attempt);
  }

  private async record(
    job: DeliveryJob,
    url: string,
    method: 'GET' | 'POST',
    a: AttemptRecord,
    written: { at: number; id?: string } = { at: this.now() },
  ): Promise<void> {
    await this.attemptRecords.record(
      {
        eventId: job.eventId,
        eventName: job.callback.eventName,
        accountId: job.callback.accountId,
        sessionId: job.callback.sessionId,
        url,
        method,
        at: new Date(written.at),
        ...a,
      },
      written.id,
    );
  }

  /**
   * The delivering attempt's record: one per event, however often it is written. Once it is in the
   * store the delivered marker keeps only the time (a lost rewrite leaves the attempt there until
   * the marker expires: logged).
   */
  private async recordDelivered(job: DeliveryJob, at: number, d: DeliveredAttempt): Promise<void> {
    await this.record(
      { ...job, callback: { ...job.callback, eventName: d.eventName } },
      d.url,
      d.method,
      {
        attempt: d.attempt,
        outcome: 'delivered',
        statusCode: d.statusCode,
        latencyMs: d.latencyMs,
        error: null,
      },
      { at, id: `${job.eventId}:delivered` },
    );
    await this.ledger.markDelivered(job.eventId, { at }).catch((err: unknown) => {
      this.logger.warn({ err, eventId: job.eventId }, 'delivered marker still holds its attempt');
    });
  }

  /**
   * A watched retry that never came, its event forgotten by the stream first (`LostRetrySweeper`):
   * dead-lettered now, to wait for a replay; unless it was delivered (a watch NATS did not remove,
   * or one written again by a delivery that overlapped it). Whether it was dead-lettered.
   */
  async deadLetterLost({ failedAt, ...retry }: WatchedRetry): Promise<boolean> {
    if (await this.ledger.delivered(retry.eventId)) return false;
    const job: DeliveryJob = {
      eventId: retry.eventId,
      callback: retry.callback,
      sequence: retry.sequence,
      publishedAt: new Date(0),
      streamSequence: 0,
      attemptKey: retry.attemptKey,
      subaccountId: retry.subaccountId,
    };
    // Dated when its last attempt failed: its numbers are redacted PARTY_REDACTION_AFTER_HOURS after
    // that. A letter its callback ended in stands (its watch outlived it): only a replay's is rewritten.
    const letter = letterOf(job, retry.url, LOST_BEFORE_RETRY, retry.attempts, failedAt);
    if (!(await this.deadLetters.recordLost(letter, retry.attemptKey !== retry.eventId))) return false;
    this.deadLettered(job, LOST_BEFORE_RETRY);
    return true;
  }

  /** Recorded before the event is acknowledged: nothing is lost, it waits here for a replay. */
  private async deadLetter(
    job: DeliveryJob,
    url: string,
    reason: string,
    attempts: number,
    at = this.now(),
  ): Promise<void> {
    await this.deadLetters.record(letterOf(job, url, reason, attempts, at));
    this.deadLettered(job, reason);
  }

  private deadLettered(job: DeliveryJob, reason: string): void {
    this.outcomes.inc({ outcome: 'dead-letter' });
    this.logger.warn(
      { eventId: job.eventId, sessionId: job.callback.sessionId, reason },
      'callback dead-lettered',
    );
  }
}

/** The dead letter of a job's callback. */
function letterOf(
  job: DeliveryJob,
  url: string,
  reason: string,
  attempts: number,
  at: number,
): DeadLetterDocument {
  return {
    _id: job.eventId,
    accountId: job.callback.accountId,
    subaccountId: job.subaccountId ?? null,
    sessionId: job.callback.sessionId,
    eventName: job.callback.eventName,
    target: job.callback.target,
    params: job.callback.params,
    ...(job.callback.sealedRecordingUrl ? { sealedRecordingUrl: job.callback.sealedRecordingUrl } : {}),
    sequence: job.sequence,
    url,
    reason,
    attempts,
    at: new Date(at),
    replayedAt: null,
  };
}

/** The job as a Proxy Service's callback: Twilio's interaction parameters, or none for this event. */
function asTwilio(job: DeliveryJob, serviceSid: string, target: CallbackTarget): DeliveryJob | undefined {
  if (!job.twilio) return undefined;
  return {
    ...job,
    dialect: 'twilio',
    callback: {
      ...job.callback,
      target: 'session',
      eventName: job.twilio.eventName,
      params: {
        ...job.twilio.params,
        interactionServiceSid: serviceSid,
        interactionAccountSid: accountSidOf(target.subaccountId ?? job.callback.accountId),
      },
    },
  };
}
