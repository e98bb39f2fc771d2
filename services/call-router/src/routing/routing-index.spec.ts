import type { RoutingSession } from '@maskline/contracts';
import { RoutingIndex } from './routing-index';

const HOUR = 3600_000;
let n = 0;
function session(over: Partial<RoutingSession> = {}): RoutingSession {
  n++;
  return {
    sessionId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    accountId: 'MAAAAAAAAAAAAAAAAAAA',
    subaccountId: null,
    virtualNumber: '+14155550100',
    firstParty: '+14155551001',
    secondParty: '+14155551002',
    status: 'active',
    expiresAt: new Date(Date.now() + HOUR).toISOString(),
    createdAt: new Date().toISOString(),
    settings: {} as RoutingSession['settings'],
    ...over,
  };
}

describe('RoutingIndex', () => {
  it('finds the live sessions on a number and forgets expired or removed ones', () => {
    const index = new RoutingIndex();
    const a = session();
    const b = session();
    const gone = session({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    const elsewhere = session({ virtualNumber: '+14155550199' });
    [a, b, gone, elsewhere].forEach((s) => index.upsert(s));
    expect(
      index
        .on('+14155550100')
        .map((s) => s.sessionId)
        .sort(),
    ).toEqual([a.sessionId, b.sessionId].sort());
    index.remove(a.sessionId);
    expect(index.on('+14155550100').map((s) => s.sessionId)).toEqual([b.sessionId]);
    expect(index.get(elsewhere.sessionId)?.virtualNumber).toBe('+14155550199');
  });

  it('moves a session when it is updated, and drops it when it is no longer active', () => {
    const index = new RoutingIndex();
    const a = session();
    index.upsert(a);
    index.upsert({ ...a, secondParty: '+14155551009' });
    expect(index.on('+14155550100')).toHaveLength(1);
    expect(index.get(a.sessionId)?.secondParty).toBe('+14155551009');
    index.upsert({ ...a, status: 'expired' });
    expect(index.on('+14155550100')).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('replaces what it knows about a number with a fresh read from the store', () => {
    const index = new RoutingIndex();
    const stale = session();
    const kept = session();
    const fresh = session();
    index.upsert(stale);
    index.upsert(kept);
    index.replaceNumber('+14155550100', [kept, fresh]);
    expect(
      index
        .on('+14155550100')
        .map((s) => s.sessionId)
        .sort(),
    ).toEqual([kept.sessionId, fresh.sessionId].sort());
    expect(index.get(stale.sessionId)).toBeUndefined();
  });

  it('keeps only the sessions a reload still lists', () => {
    const index = new RoutingIndex();
    const a = session();
    const b = session({ virtualNumber: '+14155550101' });
    index.upsert(a);
    index.upsert(b);
    index.retainOnly((id) => id === b.sessionId);
    expect(index.size).toBe(1);
    expect(index.on('+14155550100')).toEqual([]);
  });
});

describe('RoutingIndex against late and reordered events', () => {
  it('never brings back a session it heard end, whatever view arrives after', () => {
    const index = new RoutingIndex();
    const s = session();
    index.upsert(s);
    index.end(s.sessionId);
    // An update that raced the expiry, published after it.
    index.upsert({ ...s, modifiedAt: new Date(Date.now() + 1000).toISOString() });
    expect(index.get(s.sessionId)).toBeUndefined();
    expect(index.on(s.virtualNumber)).toEqual([]);
  });

  it('keeps the later of two views heard out of order', () => {
    const index = new RoutingIndex();
    const s = session();
    const t = Date.now();
    const later = { ...s, secondParty: '+14155551003', modifiedAt: new Date(t + 2000).toISOString() };
    const earlier = { ...s, secondParty: '+14155551002', modifiedAt: new Date(t + 1000).toISOString() };
    index.upsert(later);
    index.upsert(earlier);
    expect(index.get(s.sessionId)?.secondParty).toBe('+14155551003');
  });

  it('remembers a bounded number of ended sessions', () => {
    const index = new RoutingIndex();
    index.maxEndedRemembered = 2;
    const [a, b, c] = [session(), session(), session()];
    for (const s of [a, b, c]) index.end(s.sessionId);
    index.upsert(a); // the oldest end is forgotten
    index.upsert(c);
    expect(index.get(a.sessionId)).toBeDefined();
    expect(index.get(c.sessionId)).toBeUndefined();
  });
});
