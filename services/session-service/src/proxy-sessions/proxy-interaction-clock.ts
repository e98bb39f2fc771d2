import { Injectable } from '@nestjs/common';
import { SessionAnnouncer, hasNumber } from '../sessions/session-announcer';
import { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import { SessionWriteTurns, changeTime } from '../sessions/session-write-turns';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { slidExpiry } from './proxy-expiry';

const PLAIN_MAX = 100_000;

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
   * Moves the session's sliding expiry; answers which of a Proxy session's parties `from` is (the
   * caller of a call), or null (not a Proxy session, or neither party).
   */
  async interacted(
    accountId: string,
    sessionId: string,
    at: Date,
    from: string | null = null,
  ): Promise<'first' | 'second' | null> {
    if (this.plain.has(sessionId)) return null;
    const doc = await this.sessions.getLiveSystemWide(sessionId);
    if (doc && !doc.proxy) {
      if (this.plain.size >= PLAIN_MAX) this.plain.clear();
      this.plain.add(sessionId);
    }
    if (!isLiveProxyOf(doc, accountId)) return null;
    // In the session's turn, read again: a Ttl update under way is not undone by this write, nor
    // this one by it.
    return this.turns.during(accountId, sessionId, async () => {
      const current = await this.sessions.getLiveSystemWide(sessionId);
      return isLiveProxyOf(current, accountId) ? this.slide(current, at, from) : null;
    });
  }

  private async slide(
    doc: LiveProxySession,
    at: Date,
    from: string | null,
  ): Promise<'first' | 'second' | null> {
    const { accountId, _id: sessionId } = doc;
    const role =
      from && from === doc.firstParty ? 'first' : from && from === doc.secondParty ? 'second' : null;
    const last = doc.proxy.lastInteractionAt;
    const next = slidExpiry(doc.proxy, doc.expiresAt, at);
    if (!next && last && last.getTime() >= at.getTime()) return role;
    const now = changeTime(doc);
    const engine: Partial<SessionDocument> = next
      ? {
          expiresAt: next,
          modifiedAt: now,
          durationSeconds: Math.round((next.getTime() - doc.createdAt.getTime()) / 1000),
        }
      : { modifiedAt: now };
    const lastInteractionAt = last && last > at ? last : at;
    // Only its own fields: a Ttl update or a close written meanwhile stays.
    if (!(await this.sessions.setProxyFields({ accountId }, sessionId, { lastInteractionAt }, engine)))
      return role;
    if (!next) return role;
    this.expiry.schedule(sessionId, next);
    const updated = { ...doc, ...engine, proxy: { ...doc.proxy, lastInteractionAt } } as SessionDocument;
    // The routers hold each session's expiry: they hear of the later one.
    if (hasNumber(updated)) await this.announcer.updated(updated, now);
    return role;
  }
}

type LiveProxySession = SessionDocument & { proxy: NonNullable<SessionDocument['proxy']> };

/** A live Proxy session of this account's (a Plivo one's interactions move nothing). */
function isLiveProxyOf(doc: SessionDocument | null, accountId: string): doc is LiveProxySession {
  return !!doc?.proxy && doc.status === 'active' && doc.accountId === accountId;
}
