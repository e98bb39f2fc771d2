import fc from 'fast-check';
import { DEFAULT_SESSION_SETTINGS, type RoutingSession } from '@maskline/contracts';
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

  it('tells whether a number has a live session on it, as on() would', () => {
    const index = new RoutingIndex();
    const gone = session({
      virtualNumber: '+14155550111',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    const live = session({ virtualNumber: '+14155550122' });
    [gone, live].forEach((s) => index.upsert(s));
    for (const number of ['+14155550111', '+14155550122', '+14155551001', '+14155550133'])
      expect([number, index.hasLiveOn(number)]).toEqual([number, index.on(number).length > 0]);
    expect(index.hasLiveOn('+14155550122')).toBe(true);
    index.remove(live.sessionId);
    expect(index.hasLiveOn('+14155550122')).toBe(false);
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
    index.end(s.accountId, s.sessionId);
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
    for (const s of [a, b, c]) index.end(s.accountId, s.sessionId);
    index.upsert(a); // the oldest end is forgotten
    index.upsert(c);
    expect(index.get(a.sessionId)).toBeDefined();
    expect(index.get(c.sessionId)).toBeUndefined();
  });

  it('one account ending sessions in bulk forgets its own ends first, never another account’s', () => {
    const index = new RoutingIndex();
    index.maxEndedRemembered = 3;
    const victim = session();
    index.end(victim.accountId, victim.sessionId);
    for (let i = 0; i < 100; i++) {
      const s = session({ accountId: 'MA000000000000000009' });
      index.end(s.accountId, s.sessionId);
    }
    // A view of the victim's session that raced its end, arriving now.
    index.upsert({ ...victim, modifiedAt: new Date(Date.now() + 1000).toISOString() });
    expect(index.get(victim.sessionId)).toBeUndefined();
  });
});

describe('RoutingIndex gives back what it was given', () => {
  it('keeps every field exactly, in whatever form the store wrote it', () => {
    const index = new RoutingIndex();
    const usual = session({ modifiedAt: '2026-11-28T11:00:00.000Z' });
    const unusual = session({
      sessionId: 'ABCDEF01-2345-4678-9ABC-DEF012345678',
      subaccountId: 'SA000000000000000001',
      firstParty: 'redacted:0123456789abcdef0123',
      secondParty: null,
      expiresAt: '2099-01-01T01:00:00+01:00',
      createdAt: '2026-11-28T11:00:00Z',
      modifiedAt: '2026-11-28T11:00:00.5Z',
    });
    const withoutModified = session(); // from a session-service that did not say when it read
    for (const s of [usual, unusual, withoutModified]) index.upsert(s);
    expect(index.get(usual.sessionId)).toStrictEqual(usual);
    expect(index.get(unusual.sessionId)).toStrictEqual(unusual);
    expect(index.get(withoutModified.sessionId)).toStrictEqual(withoutModified);
    expect(index.on('+14155550100')).toStrictEqual([usual, unusual, withoutModified]);
    expect(index.partyOn('+14155550100', 'redacted:0123456789abcdef0123')).toStrictEqual([unusual]);
  });

  it('finds a caller’s session on a number among many, and only while the caller is its party', () => {
    const index = new RoutingIndex();
    const others = Array.from({ length: 50 }, (_, i) =>
      session({
        firstParty: `+4420794600${String(i).padStart(2, '0')}`,
        secondParty: `+4420794601${String(i).padStart(2, '0')}`,
      }),
    );
    const mine = session({ firstParty: '+16285550001', secondParty: '+16285550002' });
    const elsewhere = session({ virtualNumber: '+14155550199', firstParty: '+16285550001' });
    for (const s of [...others, mine, elsewhere]) index.upsert(s);
    expect(index.partyOn('+14155550100', '+16285550001')).toStrictEqual([mine]);
    expect(index.partyOn('+14155550100', '+16285550002')).toStrictEqual([mine]);
    expect(index.partyOn('+14155550100', '+16285550099')).toEqual([]);
    expect(index.partyOn('+14155550199', '+16285550002')).toEqual([]);
    index.upsert({ ...mine, secondParty: '+16285550003' });
    expect(index.partyOn('+14155550100', '+16285550002')).toEqual([]);
    expect(index.partyOn('+14155550100', '+16285550003')[0]?.sessionId).toBe(mine.sessionId);
    expect(index.partyOn('+14155550100', '+16285550001', Date.now() + 2 * HOUR)).toEqual([]);
    index.remove(mine.sessionId);
    expect(index.partyOn('+14155550100', '+16285550001')).toEqual([]);
    expect(index.partyOn('+14155550199', '+16285550001')).toStrictEqual([elsewhere]);
  });
});

/** The index as it was before it was packed (plain objects in Maps): what the packed one must answer. */
class ReferenceIndex {
  private readonly byNumber = new Map<string, Map<string, RoutingSession>>();
  private readonly numberOf = new Map<string, string>();
  private readonly expiresAt = new Map<string, number>();
  private readonly modifiedAt = new Map<string, number>();
  /** Ends heard, oldest first: [account, session]. */
  private readonly ended: Array<[string, string]> = [];
  constructor(private readonly maxEndedRemembered: number) {}

  private hasEnded(accountId: string, sessionId: string): boolean {
    return this.ended.some(([a, s]) => a === accountId && s === sessionId);
  }

  upsert(session: RoutingSession): void {
    const modified = session.modifiedAt ? Date.parse(session.modifiedAt) : 0;
    if ((this.modifiedAt.get(session.sessionId) ?? -1) > modified) return;
    this.remove(session.sessionId);
    if (session.status !== 'active' || this.hasEnded(session.accountId, session.sessionId)) return;
    const onNumber = this.byNumber.get(session.virtualNumber) ?? new Map<string, RoutingSession>();
    onNumber.set(session.sessionId, session);
    this.byNumber.set(session.virtualNumber, onNumber);
    this.numberOf.set(session.sessionId, session.virtualNumber);
    this.expiresAt.set(session.sessionId, Date.parse(session.expiresAt));
    this.modifiedAt.set(session.sessionId, modified);
  }
  /** Past the bound, the account holding the most ends (the one ending, on a tie) forgets its oldest. */
  end(accountId: string, sessionId: string): void {
    this.remove(sessionId);
    const at = this.ended.findIndex(([a, s]) => a === accountId && s === sessionId);
    if (at !== -1) this.ended.splice(at, 1);
    this.ended.push([accountId, sessionId]);
    while (this.ended.length > this.maxEndedRemembered) {
      const held = (a: string) => this.ended.filter(([o]) => o === a).length;
      let most = accountId;
      for (const [a] of this.ended) if (held(a) > held(most)) most = a;
      this.ended.splice(
        this.ended.findIndex(([a]) => a === most),
        1,
      );
    }
  }
  remove(sessionId: string): void {
    const number = this.numberOf.get(sessionId);
    if (!number) return;
    this.byNumber.get(number)?.delete(sessionId);
    if (this.byNumber.get(number)?.size === 0) this.byNumber.delete(number);
    this.numberOf.delete(sessionId);
    this.expiresAt.delete(sessionId);
    this.modifiedAt.delete(sessionId);
  }
  on(virtualNumber: string, now: number): RoutingSession[] {
    return [...(this.byNumber.get(virtualNumber)?.values() ?? [])].filter(
      (s) => (this.expiresAt.get(s.sessionId) ?? 0) > now,
    );
  }
  get(sessionId: string): RoutingSession | undefined {
    const number = this.numberOf.get(sessionId);
    return number ? this.byNumber.get(number)?.get(sessionId) : undefined;
  }
  replaceNumber(virtualNumber: string, sessions: RoutingSession[]): void {
    for (const id of [...(this.byNumber.get(virtualNumber)?.keys() ?? [])]) this.remove(id);
    for (const s of sessions) this.upsert(s);
  }
  retainOnly(keep: (sessionId: string) => boolean): void {
    for (const id of [...this.numberOf.keys()]) if (!keep(id)) this.remove(id);
  }
  get size(): number {
    return this.numberOf.size;
  }
}

describe('RoutingIndex against the plain index it replaced', () => {
  const NOW = Date.parse('2026-11-28T12:00:00.000Z');
  const IDS = [
    '00000000-0000-4000-8000-000000000001',
    '00000000-0000-4000-8000-000000000002',
    '00000000-0000-4000-8000-000000000003',
    'ffffffff-ffff-4fff-bfff-ffffffffffff',
    'ABCDEF01-2345-4678-9ABC-DEF012345678',
  ];
  const NUMBERS = ['+14155550100', '+14155550101'];
  const PARTIES = [
    '+16285550001',
    '+16285550002',
    '+447700900123',
    '+919876543210',
    'redacted:0123456789abcdef0123',
  ];
  const TIMES = [
    '2026-11-28T11:00:00.000Z',
    '2026-11-28T13:00:00.000Z',
    '2026-11-28T14:00:00+02:00',
    '2026-11-28T12:30:00Z',
    '2026-11-28T12:00:00.001Z',
  ];
  const SETTINGS = [
    DEFAULT_SESSION_SETTINGS,
    {
      ...DEFAULT_SESSION_SETTINGS,
      isPinAuthenticationRequired: true,
      pinPromptPlay: 'https://media.test/pin.mp3',
    },
  ];

  const aSession: fc.Arbitrary<RoutingSession> = fc
    .record({
      sessionId: fc.constantFrom(...IDS),
      accountId: fc.constantFrom('MA000000000000000001', 'MA000000000000000002'),
      subaccountId: fc.constantFrom(null, 'SA000000000000000001'),
      virtualNumber: fc.constantFrom(...NUMBERS),
      firstParty: fc.constantFrom(null, ...PARTIES),
      secondParty: fc.constantFrom(null, ...PARTIES),
      status: fc.constantFrom('active' as const, 'active' as const, 'expired' as const),
      expiresAt: fc.constantFrom(...TIMES),
      createdAt: fc.constantFrom(...TIMES),
      modifiedAt: fc.option(fc.constantFrom(...TIMES), { nil: undefined }),
      settings: fc.constantFrom(...SETTINGS),
    })
    .map(({ modifiedAt, ...s }) => (modifiedAt === undefined ? s : { ...s, modifiedAt }));

  type Op =
    | { kind: 'upsert'; session: RoutingSession }
    | { kind: 'remove'; id: string }
    | { kind: 'end'; account: string; id: string }
    | { kind: 'replaceNumber'; number: string; sessions: RoutingSession[] }
    | { kind: 'retainOnly'; keep: string[] };
  const anOp: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: aSession.map((session) => ({ kind: 'upsert' as const, session })) },
    fc.record({ kind: fc.constant('remove' as const), id: fc.constantFrom(...IDS) }),
    fc.record({
      kind: fc.constant('end' as const),
      account: fc.constantFrom('MA000000000000000001', 'MA000000000000000002'),
      id: fc.constantFrom(...IDS),
    }),
    fc.record({
      kind: fc.constant('replaceNumber' as const),
      number: fc.constantFrom(...NUMBERS),
      sessions: fc.array(aSession, { maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant('retainOnly' as const), keep: fc.subarray(IDS) }),
  );

  it('answers every read as the plain index does, whatever the events', () => {
    fc.assert(
      fc.property(fc.array(anOp, { maxLength: 40 }), (ops) => {
        const index = new RoutingIndex();
        index.maxEndedRemembered = 2;
        const reference = new ReferenceIndex(2);
        for (const op of ops) {
          for (const target of [index, reference]) {
            if (op.kind === 'upsert') target.upsert(op.session);
            else if (op.kind === 'remove') target.remove(op.id);
            else if (op.kind === 'end') target.end(op.account, op.id);
            else if (op.kind === 'replaceNumber') target.replaceNumber(op.number, op.sessions);
            else if (op.kind === 'retainOnly') {
              const keep = op.keep;
              target.retainOnly((id) => keep.includes(id));
            }
          }
          expect(index.size).toBe(reference.size);
          for (const id of IDS) expect(index.get(id)).toStrictEqual(reference.get(id));
          for (const number of NUMBERS) {
            const live = reference.on(number, NOW);
            expect(index.on(number, NOW)).toStrictEqual(live);
            for (const party of PARTIES) {
              expect(index.partyOn(number, party, NOW)).toStrictEqual(
                live.filter((s) => s.firstParty === party || s.secondParty === party),
              );
            }
          }
        }
      }),
    );
  });
});
