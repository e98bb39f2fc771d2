import {
  DEFAULT_SESSION_SETTINGS,
  GetRoutingSession,
  GetSessionsOnNumber,
  type RoutingSession,
  type RpcContract,
} from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import { RoutingIndex } from './routing-index';
import type { RoutingIndexFeeder } from './routing-index.feeder';
import { INDEX_CATCH_UP_MS, SessionFinder } from './session-finder';

const VN = '+14155550100';
const OTHER_VN = '+14155550200';
const MINE = 'MA000000000000000001';
const THEIRS = 'MA000000000000000002';
const NOW = Date.parse('2026-11-28T12:00:00Z');

const session = (id: number, over: Partial<RoutingSession> = {}): RoutingSession => ({
  sessionId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
  accountId: MINE,
  subaccountId: null,
  virtualNumber: VN,
  firstParty: '+16285550001',
  secondParty: '+16285550002',
  status: 'active',
  expiresAt: '2026-11-28T13:00:00.000Z',
  createdAt: '2026-11-28T11:00:00.000Z',
  settings: DEFAULT_SESSION_SETTINGS,
  ...over,
});

/** `caught`: whether the index applies every session event the stream holds in time. */
function finder(store: RoutingSession[], now = NOW, caught = true) {
  const index = new RoutingIndex();
  const reads: string[] = [];
  const waits: number[] = [];
  const feeder = {
    caughtUp: async (timeoutMs: number) => {
      waits.push(timeoutMs);
      return caught;
    },
  } as unknown as RoutingIndexFeeder;
  const rpc = {
    request: jest.fn(
      async (contract: RpcContract, payload: { virtualNumber?: string; sessionId?: string }) => {
        reads.push(contract.subject);
        if (contract.subject === GetSessionsOnNumber.subject) {
          return { sessions: store.filter((s) => s.virtualNumber === payload.virtualNumber) };
        }
        if (contract.subject === GetRoutingSession.subject) {
          return { session: store.find((s) => s.sessionId === payload.sessionId) ?? null };
        }
        throw new Error(contract.subject);
      },
    ),
  } as unknown as RpcClient;
  return { f: new SessionFinder(index, feeder, rpc, () => now), index, reads, waits };
}

describe('finding the sessions a call may reach', () => {
  it('gives only the sessions of the verified number’s owner, never another account’s on the same number', async () => {
    const mine = session(1);
    const theirs = session(2, { accountId: THEIRS });
    const { f } = finder([mine, theirs]);
    expect(await f.onNumber(VN, MINE)).toEqual([mine]);
    expect(await f.onNumber(VN, THEIRS)).toEqual([theirs]);
  });

  it('finds a session by id only on the number and account it is asked for', async () => {
    const mine = session(1);
    const { f } = finder([mine]);
    expect(await f.byId(mine.sessionId, VN, MINE)).toEqual(mine);
    expect(await f.byId(mine.sessionId, OTHER_VN, MINE)).toBeUndefined();
    expect(await f.byId(mine.sessionId, VN, THEIRS)).toBeUndefined();
  });

  it('never gives a session past its expiry, whatever the index holds', async () => {
    const ending = session(1, { expiresAt: '2026-11-28T12:00:00.000Z' });
    const { f, index } = finder([ending]);
    index.upsert(ending);
    index.ready = true;
    expect(await f.onNumber(VN, MINE)).toEqual([]);
    expect(await f.byId(ending.sessionId, VN, MINE)).toBeUndefined();
  });

  it('finds a session by id from the index only while the index is trusted: once it missed an update, the store says the session has ended', async () => {
    const ended = session(1);
    const { f, index, reads } = finder([]);
    index.upsert(ended);
    index.ready = true;
    expect(await f.byId(ended.sessionId, VN, MINE)).toEqual(ended);
    expect(reads).toEqual([]);
    index.ready = false; // its end event failed to apply
    expect(await f.byId(ended.sessionId, VN, MINE)).toBeUndefined();
    expect(reads).toEqual([GetRoutingSession.subject]);
  });

  it('knows a caller’s session from the loaded index alone: on that number, of that account, live', () => {
    const mine = session(1);
    const theirs = session(2, { accountId: THEIRS, firstParty: '+16285550003' });
    const ending = session(3, { firstParty: '+16285550004', expiresAt: '2026-11-28T12:00:00.000Z' });
    const { f, index, reads } = finder([mine, theirs, ending]);
    for (const s of [mine, theirs, ending]) index.upsert(s);
    expect(f.knownSessionOfParty(VN, MINE, '+16285550001')).toBeUndefined(); // not loaded: not trusted
    index.ready = true;
    expect(f.knownSessionOfParty(VN, MINE, '+16285550001')).toEqual(mine);
    expect(f.knownSessionOfParty(VN, MINE, '+16285550002')).toEqual(mine);
    expect(f.knownSessionOfParty(VN, THEIRS, '+16285550002')).toEqual(theirs);
    expect(f.knownSessionOfParty(VN, THEIRS, '+16285550001')).toBeUndefined();
    expect(f.knownSessionOfParty(VN, MINE, '+16285550004')).toBeUndefined();
    expect(f.knownSessionOfParty(OTHER_VN, MINE, '+16285550001')).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it('waits for the index to apply every session event before a decision it cannot make at once, and reads no store', async () => {
    const s = session(1);
    const { f, index, reads, waits } = finder([s]);
    index.ready = true;
    index.upsert(s);
    const party = (sessions: RoutingSession[]) => sessions.some((x) => x.firstParty === s.firstParty);
    const stranger = (sessions: RoutingSession[]) => sessions.some((x) => x.firstParty === '+16285550009');
    expect(await f.onNumber(VN, MINE, { freshUnless: party })).toEqual([s]); // the index decides at once
    expect(waits).toEqual([]);
    expect(await f.onNumber(VN, MINE, { freshUnless: stranger })).toEqual([s]); // once caught up
    expect(await f.onNumber(OTHER_VN, MINE)).toEqual([]); // nothing on the number, once caught up
    expect(waits).toEqual([INDEX_CATCH_UP_MS, INDEX_CATCH_UP_MS]);
    expect(reads).toEqual([]);
  });

  it('reads the store when the index cannot apply the events in time, or was invalidated while it waited', async () => {
    const s = session(1);
    const late = finder([s], NOW, false);
    late.index.ready = true;
    expect(await late.f.onNumber(VN, MINE)).toEqual([s]); // the store's word
    expect(late.reads).toEqual([GetSessionsOnNumber.subject]);

    const invalidated = finder([s]);
    invalidated.index.ready = true;
    const waiting = invalidated.f.onNumber(VN, MINE);
    invalidated.index.ready = false; // an event failed to apply meanwhile
    expect(await waiting).toEqual([s]);
    expect(invalidated.reads).toEqual([GetSessionsOnNumber.subject]);
  });

  it('reads the store before a decision the index cannot make in time, and at most once', async () => {
    const s = session(1);
    const { f, index, reads } = finder([s], NOW, false);
    index.ready = true;
    index.upsert(s);
    const party = (sessions: RoutingSession[]) => sessions.some((x) => x.firstParty === s.firstParty);
    const stranger = (sessions: RoutingSession[]) => sessions.some((x) => x.firstParty === '+16285550009');
    expect(await f.onNumber(VN, MINE, { freshUnless: party })).toEqual([s]); // the index decides
    expect(reads).toEqual([]);
    expect(await f.onNumber(VN, MINE, { freshUnless: stranger })).toEqual([s]); // the store's word
    expect(reads).toEqual([GetSessionsOnNumber.subject]);
    // Nothing indexed on the number: the store is read for that, and not again for the test.
    expect(await f.onNumber(OTHER_VN, MINE, { freshUnless: stranger })).toEqual([]);
    expect(reads).toEqual([GetSessionsOnNumber.subject, GetSessionsOnNumber.subject]);
  });

  it('answers from the index once it is loaded, and from the store while it is not or on a miss it cannot wait out', async () => {
    const s = session(1);
    const { f, index, reads } = finder([s], NOW, false);
    await f.onNumber(VN, MINE); // not loaded: the store
    index.ready = true;
    await f.onNumber(VN, MINE); // loaded and known: the index
    await f.onNumber(VN, MINE, { fresh: true }); // asked fresh: the store
    await f.onNumber(OTHER_VN, MINE); // nothing known there: the store
    expect(reads).toEqual([
      GetSessionsOnNumber.subject,
      GetSessionsOnNumber.subject,
      GetSessionsOnNumber.subject,
    ]);
  });
  it('reads every session on a number from the store page after page, as many as the store says follow', async () => {
    const stored = Array.from({ length: 5 }, (_, i) => session(i + 1, { firstParty: `+1628555010${i}` }));
    const index = new RoutingIndex();
    const asked: Array<string | null> = [];
    const rpc = {
      request: async (_contract: RpcContract, payload: { after: string | null }) => {
        asked.push(payload.after);
        // Two a page, in id order, after the one named.
        const from = payload.after === null ? 0 : stored.findIndex((s) => s.sessionId === payload.after) + 1;
        const page = stored.slice(from, from + 2);
        return {
          sessions: page,
          more: from + 2 < stored.length,
          next: page.at(-1)?.sessionId ?? payload.after,
        };
      },
    } as unknown as RpcClient;
    const f = new SessionFinder(index, {} as RoutingIndexFeeder, rpc, () => NOW);
    const found = await f.onNumber(VN, MINE);
    expect(found.map((s) => s.sessionId).sort()).toEqual(stored.map((s) => s.sessionId).sort());
    expect(asked).toEqual([null, stored[1].sessionId, stored[3].sessionId]);
  });

  it('stops asking when a page says more but does not move on', async () => {
    const s = session(1);
    let asked = 0;
    const rpc = {
      request: async () => {
        asked++;
        return { sessions: [s], more: true, next: s.sessionId };
      },
    } as unknown as RpcClient;
    const f = new SessionFinder(new RoutingIndex(), {} as RoutingIndexFeeder, rpc, () => NOW);
    expect(await f.onNumber(VN, MINE)).toEqual([s]);
    expect(asked).toBe(2);
  });
});
