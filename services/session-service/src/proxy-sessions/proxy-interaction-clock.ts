import { Injectable } from '@nestjs/common';
import { SessionAnnouncer, hasNumber } from '../sessions/session-announcer';
import { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import { SessionWriteTurns, changeTime } from '../sessions/session-write-turns';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { slidExpiry } from './proxy-expiry';

const PLAIN_MAX = 100_000;
/** How long an interaction waits for its session's turn before it is tried again later. */
const CONSUMER_TURN_WAIT_MS = 1000;

/**
 * Twilio's sliding TTL: an interaction of a Proxy session (a call answered or ended, a message
 * relayed or failed) records when it happened and, when the session has a TTL and no DateExpiry,
 * moves its expiry to that time plus the TTL. Reads only live sessions (the collection the size of
 * what is live); a Plivo session is read once per replica and then left alone.
 */
@Injectable()
export class ProxyInteractionClock {
  /**
   * Sessions this replica found to be Plivo-API ones (a session never changes API): their later
   * interactions cost no read. Bounded: forgotten all at once when full.
   */
  private readonly plain = new Set<string>();

  constructor(
    private readonly sessions: SessionRepository,
    private readonly expiry: ExpiryScheduler,
    private readonly announcer: SessionAnnouncer,
    private readonly turns: SessionWriteTurns,
  ) {}

  /**
   * Which of a Proxy session's parties `from` is (the caller of a call), or null (not a Proxy
   * session, or neither party), from one read; and the move of its sliding expiry, under way
   * (`slid`, which rejects if it must be tried again). A caller stores what the interaction was
   * whatever becomes of the move.
   */
  async interacted(
    accountId: string,
    sessionId: string,
    at: Date,
    from: string | null = null,
  ): Promise<{ role: 'first' | 'second' | null; slid: Promise<void> }> {
    const none = { role: null, slid: Promise.resolve() };
    if (this.plain.has(sessionId)) return none;
    const doc = await this.sessions.getLiveSystemWide(sessionId);
    if (doc && !doc.proxy) {
      if (this.plain.size >= PLAIN_MAX) this.plain.clear();
      this.plain.add(sessionId);
    }
    if (!isLiveProxyOf(doc, accountId)) return none;
    const role =
      from && from === doc.firstParty ? 'first' : from && from === doc.secondParty ? 'second' : null;
    if (!movesOn(doc, at)) {
      const again = this.announcedAgain(doc, at);
      again.catch(() => undefined); // the caller awaits it after its own writes
      return { role, slid: again };
    }
    // In the session's turn, read again: a Ttl update under way is not undone by this write, nor
    // this one by it. Waited for briefly, since the consumers that call this serve every tenant: a
    // turn held longer is tried again later (a retryable CONFLICT), the interaction stored meanwhile.
    const slid = this.turns.during(
      accountId,
      sessionId,
      async () => {
        const current = await this.sessions.getLiveSystemWide(sessionId);
        if (!isLiveProxyOf(current, accountId)) return;
        if (movesOn(current, at)) await this.slide(current, at);
        else await this.announcedAgain(current, at);
      },
      CONSUMER_TURN_WAIT_MS,
    );
    slid.catch(() => undefined);
    return { role, slid };
  }

  /**
   * This interaction's move, found stored (its event delivered again): announced again, since the
   * first try may have stored it and failed to announce it (the routers would drop the session at
   * its old expiry). Under the message id the first try used (its change time, `modifiedAt`), so
   * the stream keeps it once; a later change's time when one came since, which its own writer
   * announced. Nothing for an interaction older than the last one recorded: that one's event did.
   */
  private async announcedAgain(doc: LiveProxySession, at: Date): Promise<void> {
    if (doc.proxy.lastInteractionAt?.getTime() !== at.getTime() || !hasNumber(doc)) return;
    await this.announcer.updated(doc, doc.modifiedAt);
  }

  private async slide(doc: LiveProxySession, at: Date): Promise<void> {
    const { accountId, _id: sessionId } = doc;
    const last = doc.proxy.lastInteractionAt;
    const next = expiryAfter(doc, at);
    const now = changeTime(doc);
    const engine: Partial<SessionDocument> = next
      ? {
          expiresAt: next,
          modifiedAt: now,
          durationSeconds: Math.round((next.getTime() - doc.createdAt.getTime()) / 1000),
        }
      : { modifiedAt: now };
    const lastInteractionAt = last && last > at ? last : at;
    // Only its own fields: a Ttl update or a close written meanwhile stays; and a later expiry only
    // while no end was asked for since the read (an end brought forward, a Service's deletion, do
    // not wait for the session's turn).
    const written = await this.sessions.setProxyFields(
      { accountId },
      sessionId,
      { lastInteractionAt },
      engine,
      next ? NO_END_ASKED : {},
    );
    if (!written) return;
    if (!next) return;
    this.expiry.schedule(sessionId, next);
    const updated = { ...doc, ...engine, proxy: { ...doc.proxy, lastInteractionAt } } as SessionDocument;
    // The routers hold each session's expiry: they hear of the later one.
    if (hasNumber(updated)) await this.announcer.updated(updated, now);
  }
}

type LiveProxySession = SessionDocument & { proxy: NonNullable<SessionDocument['proxy']> };

/** Whether an interaction at `at` moves anything: the sliding expiry, or the last interaction's time. */
function movesOn(doc: LiveProxySession, at: Date): boolean {
  const last = doc.proxy.lastInteractionAt;
  return !!expiryAfter(doc, at) || !last || last.getTime() < at.getTime();
}

/** What `expiryAfter` requires of the stored session, for the write that moves its expiry. */
const NO_END_ASKED = { 'proxy.closedReason': null, endReason: null, failedCreation: null };

/**
 * The session's expiry after an interaction at `at` (`slidExpiry`); never moved once its end was
 * asked for (closed by its owner, brought forward to now, a failed creation's): an interaction
 * in the moment before the expiry runs would otherwise keep it live for another TTL.
 */
function expiryAfter(doc: LiveProxySession, at: Date): Date | null {
  if (doc.proxy.closedReason || doc.endReason || doc.failedCreation) return null;
  return slidExpiry(doc.proxy, doc.expiresAt, at);
}

/** A live Proxy session of this account's (a Plivo one's interactions move nothing). */
function isLiveProxyOf(doc: SessionDocument | null, accountId: string): doc is LiveProxySession {
  return !!doc?.proxy && doc.status === 'active' && doc.accountId === accountId;
}
