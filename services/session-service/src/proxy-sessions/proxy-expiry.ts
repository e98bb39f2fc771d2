import type { ProxySessionFacts } from '../sessions/session.schema';

/** How far off "no limit" is put (a TTL of 0 and no DateExpiry): the session lasts until closed. */
const NO_LIMIT_MS = 10 * 365 * 86_400_000;

/**
 * When a Proxy session ends, counted from `from` (its creation or its last interaction, whichever
 * is later): its DateExpiry when it has one, else `from` + its TTL, else (TTL 0) no limit.
 */
export function proxyExpiry(facts: Pick<ProxySessionFacts, 'ttl' | 'dateExpiry'>, from: Date): Date {
  if (facts.dateExpiry) return facts.dateExpiry;
  if (facts.ttl > 0) return new Date(from.getTime() + facts.ttl * 1000);
  return new Date(from.getTime() + NO_LIMIT_MS);
}

/**
 * The expiry after an interaction at `at` (Twilio's sliding TTL): later by the TTL when the
 * session has a TTL and no DateExpiry; null when it does not move.
 */
export function slidExpiry(
  facts: Pick<ProxySessionFacts, 'ttl' | 'dateExpiry'>,
  current: Date,
  at: Date,
): Date | null {
  if (facts.dateExpiry || facts.ttl <= 0) return null;
  const next = new Date(at.getTime() + facts.ttl * 1000);
  return next.getTime() > current.getTime() ? next : null;
}
