import { Controller, Inject } from '@nestjs/common';
import {
  CallbackReplayRequested,
  CodedError,
  GetCallbackStats,
  hourlyWindowStart,
  type RpcReplyInputOf,
  ListCallbackAttempts,
  ListDeadLetters,
  ReplayDeadLetters,
  type DeadLetter,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { EventPublisher, RpcHandler } from '@maskline/messaging';
import { CLOCK, SharedReads, type Clock } from '@maskline/service-kit';
import { summarizeCallbackStats } from './callback-stats-summary';
import { CallbackAttempts } from './callback-attempts.repository';
import { DeadLetters, replayIdOf } from './dead-letters.repository';
import type { DeadLetterDocument } from './callback-records.schema';

@Controller()
export class CallbacksNatsController {
  constructor(
    private readonly attemptRecords: CallbackAttempts,
    private readonly letters: DeadLetters,
    private readonly events: EventPublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.statistics = new SharedReads({ ttlMs: 30_000, maxEntries: 1000 }, clock);
  }

  /** Reads at most this many attempts for the statistics (the newest; the reply says when it is capped). */
  static readonly STATS_READ_MAX = 20_000;
  /** One read per account and window every 30 s, however many ask: the view may be that old. */
  private readonly statistics: SharedReads<string, RpcReplyInputOf<typeof GetCallbackStats>>;

  @RpcHandler(GetCallbackStats)
  stats(request: Req<typeof GetCallbackStats>) {
    return this.statistics.get(`${request.accountId}:${request.hours}`, async () => {
      const now = this.clock();
      const since = new Date(hourlyWindowStart(now, request.hours));
      const max = CallbacksNatsController.STATS_READ_MAX;
      const attempts = await this.attemptRecords.since(request.accountId, since, max);
      return summarizeCallbackStats(attempts, now, request.hours, attempts.length >= max);
    });
  }

  @RpcHandler(ListCallbackAttempts)
  async attempts(request: Req<typeof ListCallbackAttempts>) {
    const { accountId } = request.scope;
    const [attempts, letters] = await Promise.all([
      this.attemptRecords.ofSession(accountId, request.sessionId),
      this.letters.ofSession(accountId, request.sessionId),
    ]);
    return {
      attempts: attempts.map((a) => ({
        eventId: a.eventId,
        eventName: a.eventName,
        sessionId: a.sessionId,
        url: a.url,
        method: a.method,
        attempt: a.attempt,
        at: a.at.toISOString(),
        outcome: a.outcome,
        statusCode: a.statusCode,
        latencyMs: a.latencyMs,
        error: a.error,
      })),
      deadLetters: letters.map(view),
    };
  }

  @RpcHandler(ListDeadLetters)
  async listDeadLetters(request: Req<typeof ListDeadLetters>) {
    const page = await this.letters.page(request.scope, request.limit, request.offset);
    return { total: page.total, objects: page.objects.map(view) };
  }

  /** Sends dead letters around again: one by event id, or every one of the account's not yet replayed. */
  @RpcHandler(ReplayDeadLetters)
  async replay(request: Req<typeof ReplayDeadLetters>) {
    const { accountId } = request.scope;
    let letters: DeadLetterDocument[];
    if (request.eventId) {
      const letter = await this.letters.one(request.scope, request.eventId);
      if (!letter) throw CodedError.notFound(`dead letter ${request.eventId} not found`);
      letters = [letter];
    } else {
      letters = await this.letters.notReplayed(request.scope, 1000);
    }
    const now = new Date(this.clock());
    for (const letter of letters) {
      const replayId = replayIdOf(letter);
      // Published first: a letter is marked replayed only once its replay is on the stream, so a
      // failed publish leaves it replayable instead of losing it.
      await this.events.publish(
        CallbackReplayRequested,
        { accountId, eventId: letter._id, replayId, at: now.toISOString() },
        { msgId: `callback-replay:${letter._id}:${replayId}` },
      );
      await this.letters.markReplayed(letter, now);
    }
    return { replayed: letters.length };
  }
}

function view(d: DeadLetterDocument): DeadLetter {
  return {
    eventId: d._id,
    eventName: d.eventName,
    sessionId: d.sessionId,
    url: d.url,
    reason: d.reason,
    attempts: d.attempts,
    at: d.at.toISOString(),
    replayedAt: d.replayedAt ? d.replayedAt.toISOString() : null,
  };
}
