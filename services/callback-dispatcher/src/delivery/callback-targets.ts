import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  GetCallbackTarget,
  SessionUpdated,
  STREAMS,
  type RpcReplyOf,
} from '@maskline/contracts';
import { NATS_CONNECTION, RpcClient, tailEvents, type EventTail } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';

export type CallbackTarget = RpcReplyOf<typeof GetCallbackTarget>;

/** How long a target is trusted without word of an update (a missed one heals after this). */
const TARGET_TTL_MS = 60_000;
const MAX_CACHED = 10_000;

/**
 * Where each session's callbacks go, asked of session-service once and kept: every replica hears
 * every session update (an ordered consumer of its own) and forgets that session's target, so a
 * callback_url changed by an update applies to the events after it within moments, and within
 * TARGET_TTL_MS even if word of the update was lost. Asking on every event cost a store read per
 * callback: at 200 calls/s on 200 sessions, a 5 s cache still missed 40 times a second.
 */
@Injectable()
export class CallbackTargets implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly cache = new Map<string, { accountId: string; target: CallbackTarget; until: number }>();
  private tail?: EventTail;
  /** Updates heard so far: a read that overlapped one may predate it, and is not kept. */
  private updatesHeard = 0;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.tail = await tailEvents(this.nc, {
      stream: STREAMS.MASKLINE_EVENTS.name,
      filterSubjects: SessionUpdated.subject,
      onEvent: (_subject, payload) => {
        const sessionId = (payload as { sessionId?: unknown } | null)?.sessionId;
        this.updatesHeard++;
        if (typeof sessionId === 'string') this.cache.delete(sessionId);
      },
      onError: (err, subject) => {
        // Word of some update may be lost: trust nothing cached.
        this.updatesHeard++;
        this.cache.clear();
        this.logger.warn({ err, subject }, 'session updates missed: callback targets are read afresh');
      },
    });
  }

  onApplicationShutdown(): void {
    this.tail?.stop();
  }

  /** The session's target, or undefined when session-service knows no such session. */
  async get(accountId: string, sessionId: string): Promise<CallbackTarget | undefined> {
    const hit = this.cache.get(sessionId);
    if (hit && hit.accountId === accountId && hit.until > Date.now()) return hit.target;
    const heardBefore = this.updatesHeard;
    try {
      const target = await this.rpc.request(GetCallbackTarget, { accountId, sessionId });
      if (this.updatesHeard !== heardBefore) return target; // maybe older than an update: use once
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(sessionId, { accountId, target, until: Date.now() + TARGET_TTL_MS });
      return target;
    } catch (err) {
      if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) return undefined;
      throw err;
    }
  }
}
