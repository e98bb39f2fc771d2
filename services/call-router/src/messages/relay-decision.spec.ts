import { DEFAULT_SESSION_SETTINGS, type RoutingSession } from '@maskline/contracts';
import { decideRelay } from './relay-decision';

const NOW = Date.parse('2026-11-29T10:00:00Z');
const session = (overrides: Partial<RoutingSession> = {}, masking = true): RoutingSession => ({
  sessionId: '8b0f3d4e-1111-4c1e-9d7a-000000000001',
  accountId: 'MAAAAAAAAAAAAAAAAAAA',
  subaccountId: null,
  virtualNumber: '+14155550100',
  firstParty: '+14155550111',
  secondParty: '+14155550122',
  status: 'active',
  expiresAt: '2026-11-29T11:00:00.000Z',
  createdAt: '2026-11-29T09:00:00.000Z',
  settings: { ...DEFAULT_SESSION_SETTINGS, messageMasking: masking },
  ...overrides,
});

describe('decideRelay', () => {
  it('relays a party’s message to the other party, both ways', () => {
    expect(decideRelay([session()], '+14155550111', NOW)).toMatchObject({
      kind: 'relay',
      to: '+14155550122',
      direction: 'first-to-second',
    });
    expect(decideRelay([session()], '+14155550122', NOW)).toMatchObject({
      kind: 'relay',
      to: '+14155550111',
      direction: 'second-to-first',
    });
  });

  it('relays nothing from a phone that is no party, whatever sessions live on the number', () => {
    expect(decideRelay([session()], '+14155550999', NOW)).toEqual({ kind: 'none', why: 'no-session' });
    expect(decideRelay([], '+14155550111', NOW)).toEqual({ kind: 'none', why: 'no-session' });
  });

  it('relays nothing for a session that has ended or expired', () => {
    expect(decideRelay([session({ status: 'expired' })], '+14155550111', NOW).kind).toBe('none');
    expect(decideRelay([session({ expiresAt: '2026-11-29T09:59:59.000Z' })], '+14155550111', NOW).kind).toBe(
      'none',
    );
  });

  it('relays nothing when the session has message masking off', () => {
    expect(decideRelay([session({}, false)], '+14155550111', NOW)).toEqual({
      kind: 'none',
      why: 'masking-off',
    });
  });

  it('relays nothing from the one party of a single-party session', () => {
    expect(decideRelay([session({ secondParty: null })], '+14155550111', NOW)).toEqual({
      kind: 'none',
      why: 'no-other-party',
    });
  });

  it('picks the sender’s own session among several on the number', () => {
    const other = session({
      sessionId: '8b0f3d4e-1111-4c1e-9d7a-000000000002',
      firstParty: '+14155550333',
      secondParty: '+14155550444',
    });
    const decision = decideRelay([other, session()], '+14155550122', NOW);
    expect(decision).toMatchObject({ kind: 'relay', to: '+14155550111' });
  });
});
