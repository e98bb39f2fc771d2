import { Injectable } from '@nestjs/common';
import { SessionAnnouncer, hasNumber } from '../sessions/session-announcer';
import { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { slidExpiry } from './proxy-expiry';

/**
 * Twilio's sliding TTL: an interaction of a Proxy session (a call answered or ended, a message
 * relayed or failed) records when it happened and, when the session has a TTL and no DateExpiry,
 * moves its expiry to that time plus the TTL. Reads only live sessions (the collection the size of
 * what is live); a Plivo session is read and left alone.
 */
@Injectable()
export class ProxyInteractionClock {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly expiry: ExpiryScheduler,
    private readonly announcer: SessionAnnouncer,
  ) {}

  async interacted(accountId: string, sessionId: string, at: Date): Promise<void> {
    const doc = await this.sessions.getLiveSystemWide(sessionId);
    if (!doc?.proxy || doc.status !== 'active' || doc.accountId !== accountId) return;
    const last = doc.proxy.lastInteractionAt;
    const next = slidExpiry(doc.proxy, doc.expiresAt, at);
    if (!next && last && last.getTime() >= at.getTime()) return;
    const now = new Date();
    const set: Partial<SessionDocument> = {
      proxy: { ...doc.proxy, lastInteractionAt: last && last > at ? last : at },
      modifiedAt: now,
      ...(next
        ? {
            expiresAt: next,
            durationSeconds: Math.round((next.getTime() - doc.createdAt.getTime()) / 1000),
          }
        : {}),
    };
    if (!(await this.sessions.updateActive({ accountId }, sessionId, set))) return; // ended meanwhile
    if (!next) return;
    this.expiry.schedule(sessionId, next);
    const updated = { ...doc, ...set } as SessionDocument;
    // The routers hold each session's expiry: they hear of the later one.
    if (hasNumber(updated)) await this.announcer.updated(updated, now);
  }
}
