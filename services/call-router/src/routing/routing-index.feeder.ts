import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import {
  GetRoutingSession,
  GetRoutingSnapshot,
  type RpcReplyOf,
  SessionCreated,
  SessionExpired,
  SessionUpdated,
} from '@maskline/contracts';
import { NATS_CONNECTION, RpcClient, tailEvents, type EventOf, type EventTail } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';
import { RoutingIndex } from './routing-index';

const SESSION_EVENTS = [SessionCreated, SessionUpdated, SessionExpired] as const;

/**
 * Keeps the routing index current: starts an ordered (per-replica) consumer of session events
 * from now, then loads the live sessions page by page; events that arrive meanwhile are applied
 * after, and applying one twice does no harm. A created or updated session's event carries its
 * routing view: the index holds what the store held when the event was written.
 */
@Injectable()
export class RoutingIndexFeeder implements OnApplicationBootstrap, OnApplicationShutdown {
  private tail?: EventTail;
  /** While a snapshot loads: sessions whose events were applied meanwhile. */
  private loading = false;
  private touched = new Set<string>();
  private reloadAfter = false;
  private retryMs = 250;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly rpc: RpcClient,
    private readonly index: RoutingIndex,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.tail = await tailEvents(this.nc, {
      events: SESSION_EVENTS,
      filterSubject: 'events.session.>',
      onEvent: (event) => this.apply(event),
      onError: (err, subject) => {
        this.logger.warn(
          { err, subject },
          'routing index update failed: routing reads the store until the index is reloaded',
        );
        this.invalidate();
      },
    });
    void this.loadSnapshot();
  }

  async onApplicationShutdown(): Promise<void> {
    this.tail?.stop();
  }

  /**
   * Whether the index has applied every session event the stream held when asked (within
   * `timeoutMs`): then, if it is `ready`, what it lacks does not exist (see `SessionFinder`).
   */
  caughtUp(timeoutMs: number): Promise<boolean> {
    return this.tail?.caughtUp(timeoutMs) ?? Promise.resolve(false);
  }

  /** A missed update makes the index untrustworthy: calls read the store until a fresh snapshot loads. */
  private invalidate(): void {
    this.index.ready = false;
    if (this.loading) this.reloadAfter = true;
    else void this.loadSnapshot();
  }

  private async loadSnapshot(): Promise<void> {
    this.loading = true;
    this.touched = new Set();
    const seen = new Set<string>();
    try {
      // After the last id of the page before (`next`); by offset only where an earlier release's
      // session-service answers (it gives no `next`).
      let after: string | null = null;
      let offset = 0;
      for (;;) {
        const page: RpcReplyOf<typeof GetRoutingSnapshot> = await this.rpc.request(
          GetRoutingSnapshot,
          { after, offset, limit: this.config.SNAPSHOT_PAGE_SIZE },
          { timeoutMs: 10_000 },
        );
        for (const s of page.sessions) {
          seen.add(s.sessionId);
          // An event applied during the load read the session later than this page did.
          if (!this.touched.has(s.sessionId)) this.index.upsert(s);
        }
        // By offset, past every session the page looked at: a page with more after it looked at
        // `limit`, though it gives none without a number (a Proxy session before its first
        // participant). Moved on by what it gave, a page of those alone was asked for again and again.
        offset += this.config.SNAPSHOT_PAGE_SIZE;
        // By id after the page's last: where an earlier release answered this page, the last session
        // it gave (so a page a current one answers next goes on from there, not from the start).
        after = page.next ?? page.sessions.at(-1)?.sessionId ?? after;
        if (!page.more) break;
      }
      this.index.retainOnly((id) => seen.has(id) || this.touched.has(id));
      this.touched = new Set();
      this.loading = false;
      if (this.reloadAfter) {
        this.reloadAfter = false;
        void this.loadSnapshot();
        return;
      }
      this.index.ready = true;
      this.retryMs = 250;
      this.logger.info({ sessions: this.index.size }, 'routing index loaded');
    } catch (err) {
      this.logger.warn(
        { err },
        'routing index snapshot failed; routing falls back to the store until it loads',
      );
      // Services start in any order: retry soon, then back off.
      this.retryMs = Math.min(this.retryMs * 2, 5000);
      setTimeout(() => void this.loadSnapshot(), this.retryMs).unref();
    }
  }

  private async apply(event: EventOf<typeof SESSION_EVENTS>): Promise<void> {
    const { accountId, sessionId } = event.payload;
    if (this.loading) this.touched.add(sessionId);
    if (event.subject === SessionExpired.subject) {
      this.index.end(accountId, sessionId);
      return;
    }
    // The event carries the routing view; one from an older session-service does not: ask.
    const session =
      event.payload.routing ?? (await this.rpc.request(GetRoutingSession, { sessionId })).session;
    if (session) this.index.upsert(session);
    else this.index.remove(sessionId);
  }
}
