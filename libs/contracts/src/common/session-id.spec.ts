import { z } from 'zod';
import { proxySessionSidOf, sessionIdOfProxySid } from './twilio-sid';
import { CLOCK_SKEW_MS, newSessionId, sessionIdTime, sessionRecordsFrom } from './session-id';

describe('session ids', () => {
  const at = Date.UTC(2026, 10, 30, 23, 59, 59, 987);

  it('are UUIDs of version 7 that carry the time they were made, to the millisecond', () => {
    const id = newSessionId(at);
    expect(z.string().uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    expect(sessionIdTime(id)?.getTime()).toBe(at);
    expect(sessionRecordsFrom(id)?.getTime()).toBe(at - CLOCK_SKEW_MS);
  });

  it('differ when made in the same millisecond (74 random bits)', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newSessionId(at)));
    expect(ids.size).toBe(10_000);
  });

  it('keep their time through a Proxy Session SID', () => {
    const id = newSessionId(at);
    const back = sessionIdOfProxySid(proxySessionSidOf(id));
    expect(back).toBe(id);
    expect(sessionIdTime(back!)?.getTime()).toBe(at);
  });

  it('say nothing of an id made otherwise: an earlier version’s random UUID, or no UUID', () => {
    expect(sessionIdTime('0b0e4a3e-8d4c-4f6e-9a51-3c1b7f5e2d10')).toBeNull();
    expect(sessionIdTime('not-a-uuid')).toBeNull();
    expect(sessionRecordsFrom('0b0e4a3e-8d4c-4f6e-9a51-3c1b7f5e2d10')).toBeUndefined();
  });
});
