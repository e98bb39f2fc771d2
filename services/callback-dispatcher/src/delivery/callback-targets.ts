import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  GetCallbackTarget,
  SessionUpdated,
  callbackTargetOf,
  type CallbackTarget,
  type RoutingSession,
} from '@maskline/contracts';
import { InvalidatedCache, NATS_CONNECTION, RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { FairShares } from '@maskline/resilience';

export type { CallbackTarget };

/** How long a target is trusted without word of an update. */
const TARGET_TTL_MS = 60_000;
/**
 * Sessions whose last update heard is remembered, to refuse views older than it: past it, the
 * account remembering the most forgets its oldest (FairShares), so one tenant's flood of updates
 * makes no other tenant's stale views trusted again.
 */
const UPDATES_REMEMBERED = 50_000;

type Known = { accountId: string; target?: CallbackTarget; modifiedAt?: number };

/**
 * Where each session's callbacks go, asked of session-service once and kept: every replica hears
 * every session update and forgets that session's target, so a callback_url changed by an update
 * applies to the events after it within moments, and within TARGET_TTL_MS even if word of the update was
 * lost. Asking on every event cost a store read per callback: at 200 calls/s on 200 sessions, a
 * 5 s cache still missed 40 times a second.
 */
@Injectable()
export class CallbackTargets implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly cache = new InvalidatedCache<string, Known>({
    ttlMs: TARGET_TTL_MS,
    maxEntries: 10_000,
    // In fair shares by tenant: one with many sessions cannot push other tenants' targets out.
    ownerOf: (_sessionId, known) => known.accountId,
  });
  /** The time of the view each session update heard carried, by account and session: a view from before it is out of date. */
  private readonly updatedAt = new FairShares<number>(UPDATES_REMEMBERED);

  /** Session updates this replica has heard (and forgotten the target of). */
  private readonly heard;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.heard = metrics.counter(
      'maskline_callback_target_updates_heard_total',
      'Session updates this replica has heard; each drops that session’s cached callback target',
    );
  }

  onApplicationBootstrap(): Promise<void> {
    return this.cache.follow(
      this.nc,
      SessionUpdated,
      (p) => this.heardUpdate(p),
      (err) => this.logger.warn({ err }, 'session updates missed: callback targets are read afresh'),
    );
  }

  /** A session update heard: its target is forgotten (the key returned), and its view's time kept. */
  heardUpdate(update: { accountId: string; sessionId: string; routing?: { modifiedAt?: string } }): string {
    this.heard.inc();
    this.cache.invalidate(update.sessionId);
    const at = timeOf(update.routing?.modifiedAt);
    if (at !== undefined) {
      const known = this.updatedAt.get(update.accountId, update.sessionId) ?? -Infinity;
      this.updatedAt.set(update.accountId, update.sessionId, Math.max(known, at));
    }
    return update.sessionId;
  }

  onApplicationShutdown(): void {
    this.cache.stopFollowing();
  }

  /**
   * The target as an event carried it (its `routing` tail): the event about to be delivered needs no
   * question to session-service. A session's expiry is one such event, and by then the session is
   * only in session-service's history, which no callback should have to wait for. A call step's tail
   * (`fillOnly`: the session as a call router held it) only fills a target not known: a replica just
   * started learns every session with a call under way from its steps instead of asking once for
   * each (a store read each, all at once); it never replaces nor renews a target known, so what
   * session-service or a session event said stands, and is asked again after TARGET_TTL_MS. A view
   * older than the last update heard, or than one known, is not kept (a router that had not yet heard
   * of an update). A Proxy session's target is its Service's, asked of session-service: never learnt.
   */
  learn(
    routing: RoutingSession,
    about: { accountId: string; sessionId: string },
    { fillOnly = false }: { fillOnly?: boolean } = {},
  ): void {
    // Only a tail that describes the event's own session (anything else is a fault upstream).
    if (routing.sessionId !== about.sessionId || routing.accountId !== about.accountId) return;
    if (routing.proxyServiceSid) return;
    const known = this.cache.peek(routing.sessionId);
    if (fillOnly && known) return;
    const modifiedAt = timeOf(routing.modifiedAt);
    const newest = Math.max(
      this.updatedAt.get(routing.accountId, routing.sessionId) ?? -Infinity,
      known?.modifiedAt ?? -Infinity,
    );
    if (newest > (modifiedAt ?? -Infinity)) return;
    this.cache.put(routing.sessionId, {
      accountId: routing.accountId,
      target: callbackTargetOf(routing),
      modifiedAt,
    });
  }

  /** The session's target, or undefined when session-service knows no such session. */
  async get(accountId: string, sessionId: string): Promise<CallbackTarget | undefined> {
    const load = async () => {
      try {
        return { accountId, target: await this.rpc.request(GetCallbackTarget, { accountId, sessionId }) };
      } catch (err) {
        if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) return { accountId };
        throw err;
      }
    };
    // A session not (yet) known is asked again next time.
    const cached = await this.cache.get(sessionId, load, (v) => (v.target ? TARGET_TTL_MS : 0));
    // Keys are session ids; the account is part of the question, so another account's is asked afresh.
    return cached.accountId === accountId ? cached.target : (await load()).target;
  }
}

function timeOf(iso: string | undefined): number | undefined {
  const at = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(at) ? undefined : at;
}
