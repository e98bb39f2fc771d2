import pino from 'pino';
import { ReleaseAllocation, ReleaseSessionPins, SessionExpired } from '@maskline/contracts';
import type { EventPublisher, RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import type { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import type { ExpiryClaim, ExpiryClaims } from './expiry-claims';
import { SessionExpirer } from './session-expirer';
import type { LiveSessionQuota } from '../sessions/live-session-quota';

const NOW = new Date('2026-11-30T12:00:00Z').getTime();

function session(over: Partial<SessionDocument> = {}): SessionDocument {
  return {
    _id: 'S1',
    accountId: 'MAACCOUNT',
    subaccountId: null,
    virtualNumber: '+14155550100',
    allocationId: 'A1',
    firstParty: '+14155550111',
    secondParty: '+14155550122',
    status: 'active',
    expiresAt: new Date(NOW - 1000),
    createdAt: new Date(NOW - 60_000),
    modifiedAt: new Date(NOW - 60_000),
    settings: { isPinAuthenticationRequired: true },
    ...over,
  } as unknown as SessionDocument;
}

/** The expirer over a store holding `stored` (null: not live), a claim answering `claim`. */
function expirer(world: {
  stored: SessionDocument | null | Error;
  claim?: ExpiryClaim;
  release?: Error;
  finish?: Error;
  /** What the mark finds changed since the read (an update that landed between), null: moved already; an Error: it fails. */
  mark?: Partial<SessionDocument> | null | Error;
  move?: Error;
  publish?: Error;
}) {
  const steps: string[] = [];
  const moved: SessionDocument[] = [];
  const published: unknown[] = [];
  const sessions = {
    getLiveSystemWide: jest.fn(async () => {
      steps.push('read');
      if (world.stored instanceof Error) throw world.stored;
      return world.stored;
    }),
    markEndedSystemWide: jest.fn(async (_id: string, at: Date, endReason: string) => {
      steps.push('mark');
      if (world.mark instanceof Error) throw world.mark;
      if (world.mark === null) return null;
      const current = world.stored instanceof Error ? null : world.stored;
      return current
        ? { ...current, ...world.mark, status: 'expired', expiredAt: at, modifiedAt: at, endReason }
        : null;
    }),
    moveMarkedSystemWide: jest.fn(async (marked: SessionDocument, how: string) => {
      steps.push(`move ${how}`);
      moved.push(marked);
      if (world.move) throw world.move;
    }),
  };
  const requests: unknown[] = [];
  const rpc = {
    request: jest.fn(async (contract: { subject: string }, payload: unknown) => {
      steps.push(contract.subject);
      requests.push(payload);
      if (contract === ReleaseAllocation && world.release) throw world.release;
      return {};
    }),
  };
  const events = {
    publish: jest.fn(async (contract: { subject: string }, payload: unknown, opts: unknown) => {
      steps.push(contract.subject);
      if (world.publish) throw world.publish;
      published.push({ payload, opts });
    }),
  };
  const claims = {
    claim: jest.fn(async () => {
      steps.push('claim');
      return world.claim ?? { kind: 'claimed', revision: 7 };
    }),
    finish: jest.fn(async () => {
      steps.push('finish');
      if (world.finish) throw world.finish;
    }),
    release: jest.fn(async () => void steps.push('release')),
    drop: jest.fn(() => void steps.push('drop')),
  };
  // Its account's live sessions (LiveSessionQuota): one given back per session ended.
  const live = { given: 0 };
  const quota = {
    giveBack: jest.fn(async () => {
      live.given++;
      steps.push('give back');
    }),
  } as unknown as LiveSessionQuota;
  const e = new SessionExpirer(
    sessions as unknown as SessionRepository,
    rpc as unknown as RpcClient,
    events as unknown as EventPublisher,
    claims as unknown as ExpiryClaims,
    quota,
    pino({ enabled: false }),
    new MetricsService('session-expirer-spec'),
  );
  return { e, steps, published, requests, moved, sessions, live };
}

describe('SessionExpirer', () => {
  beforeEach(() => jest.useFakeTimers({ now: NOW, doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('ends a due session once claimed: marked, number and PINs back, the marked copy announced under one message id, then moved', async () => {
    const { e, steps, published, moved } = expirer({ stored: session() });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(steps).toEqual([
      'claim',
      'read',
      'mark',
      ReleaseAllocation.subject,
      ReleaseSessionPins.subject,
      SessionExpired.subject,
      'move as ended',
      'give back',
      'finish',
    ]);
    expect(published).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({
          sessionId: 'S1',
          reason: 'timeout',
          at: new Date(NOW).toISOString(),
        }),
        opts: { msgId: 'session-expired:S1' },
      }),
    ]);
    expect(moved).toEqual([
      expect.objectContaining({ _id: 'S1', status: 'expired', expiredAt: new Date(NOW) }),
    ]);
  });

  it('announces and keeps the copy stored at the mark: an update that landed after the read is in both', async () => {
    const { e, published, moved } = expirer({ stored: session(), mark: { secondParty: '+14155550133' } });
    await e.expireIfDue('S1');
    expect(published).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ secondParty: '+14155550133' }) }),
    ]);
    expect(moved).toEqual([expect.objectContaining({ secondParty: '+14155550133' })]);
  });

  it('found marked but not moved (an expiry stopped after its mark): released again (idempotent), announced for the reason the mark recorded, moved as found', async () => {
    const endedAt = new Date(NOW - 120_000);
    const { e, steps, published, requests } = expirer({
      stored: session({
        status: 'expired',
        expiredAt: endedAt,
        endReason: 'api',
        allocationId: 'A2',
      } as Partial<SessionDocument>),
    });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(steps).toEqual([
      'claim',
      'read',
      ReleaseAllocation.subject,
      ReleaseSessionPins.subject,
      SessionExpired.subject,
      'move as found',
      'give back',
      'finish',
    ]);
    expect(requests).toContainEqual(expect.objectContaining({ allocationId: 'A2' }));
    expect(published).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({ reason: 'api', at: endedAt.toISOString() }),
        opts: { msgId: 'session-expired:S1' },
      }),
    ]);
  });

  it('found marked long ago (an earlier version left it, or no replica could finish it for hours): announced all the same, since it may never have been', async () => {
    const { e, steps } = expirer({
      stored: session({
        status: 'expired',
        expiredAt: new Date(NOW - 86_400_000),
      } as Partial<SessionDocument>),
    });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(steps).toContain(SessionExpired.subject);
    expect(steps).toContain('move as found');
  });

  it('an announcement or a move that fails after the mark keeps the claim; the retry finds it marked and finishes it', async () => {
    for (const failure of [{ publish: new Error('no stream') }, { move: new Error('store unavailable') }]) {
      const first = expirer({ stored: session(), ...failure });
      await expect(first.e.expireIfDue('S1')).rejects.toThrow(/no stream|store unavailable/);
      expect(first.steps.at(-1)).toBe('drop');
      expect(first.steps).not.toContain('finish');
      // The retry reads what the mark left: status expired, why, and when.
      const markedCopy = (await first.sessions.markEndedSystemWide.mock.results[0].value) as SessionDocument;
      const retry = expirer({ stored: markedCopy });
      await expect(retry.e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
      // One of its account's live sessions given back once, by the end that moved it.
      expect(first.live.given).toBe(0);
      expect(retry.steps.slice(-4)).toEqual([SessionExpired.subject, 'move as found', 'give back', 'finish']);
      expect(retry.published).toEqual([
        expect.objectContaining({
          payload: expect.objectContaining({ reason: 'timeout' }),
          opts: { msgId: 'session-expired:S1' },
        }),
      ]);
    }
  });

  it('a Proxy session whose first Participant (and number) came between the read and the mark: that number is released too', async () => {
    const { e, requests } = expirer({
      stored: session({ allocationId: null } as Partial<SessionDocument>),
      mark: { allocationId: 'A9' } as Partial<SessionDocument>,
    });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(requests).toContainEqual(expect.objectContaining({ allocationId: 'A9' }));
  });

  it('a failed creation (the orphan reaper took its verdict): marked, number and PINs back, its end announced (a router may have read it from the store) and marked failed, so its owner hears no SessionTimeout', async () => {
    const { e, steps, published } = expirer({ stored: session({ failedCreation: true }) });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(steps).toEqual([
      'claim',
      'read',
      'mark',
      ReleaseAllocation.subject,
      ReleaseSessionPins.subject,
      SessionExpired.subject,
      'move as ended',
      'give back',
      'finish',
    ]);
    expect(published).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({ sessionId: 'S1', failedCreation: true }),
        opts: { msgId: 'session-expired:S1' },
      }),
    ]);
  });

  it('an ordinary end is not marked failed', async () => {
    const { e, published } = expirer({ stored: session() });
    await e.expireIfDue('S1');
    expect(published).toEqual([
      expect.objectContaining({
        payload: expect.not.objectContaining({ failedCreation: expect.anything() }),
      }),
    ]);
  });

  it('a tombstone (an abandoned creation) is nothing to end', async () => {
    const { e, steps } = expirer({
      stored: session({
        status: 'expired',
        expiredAt: new Date(NOW),
        abandoned: true,
      } as Partial<SessionDocument>),
    });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(steps).toEqual(['claim', 'read', 'finish']);
  });

  it('another replica holds the claim: nothing is read from the store, and the caller is told until when', async () => {
    const { e, steps } = expirer({ stored: session(), claim: { kind: 'busy', untilMs: NOW + 30_000 } });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'busy', untilMs: NOW + 30_000 });
    expect(steps).toEqual(['claim']);
  });

  it('ended already (its claim says so, or the store no longer has it live): nothing is released twice', async () => {
    const marked = expirer({ stored: session(), claim: { kind: 'ended' } });
    await expect(marked.e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(marked.steps).toEqual(['claim']);
    const gone = expirer({ stored: null });
    await expect(gone.e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(gone.steps).toEqual(['claim', 'read', 'finish']);
  });

  it('not due (its expiry moved since it was timed): the claim is given back and the new time returned', async () => {
    const later = new Date(NOW + 60_000);
    const { e, steps } = expirer({ stored: session({ expiresAt: later }) });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'later', expiresAt: later });
    expect(steps).toEqual(['claim', 'read', 'release']);
  });

  it('`now` (its owner ended it) ends a session not yet due, announced as ended by the API', async () => {
    const { e, published } = expirer({ stored: session({ expiresAt: new Date(NOW + 60_000) }) });
    await expect(e.expireIfDue('S1', { now: true, reason: 'api' })).resolves.toEqual({ kind: 'ended' });
    expect(published).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ reason: 'api' }) }),
    ]);
  });

  it('ended by another replica after its owner brought the expiry forward: announced as ended by the API, not as a timeout', async () => {
    const { e, published } = expirer({
      stored: session({ expiresAt: new Date(NOW - 10), endReason: 'api' }),
    });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(published).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ reason: 'api' }) }),
    ]);
  });

  it('releases what the session held at its mark, not what was read before (a Proxy participant added meanwhile, with its number and PINs)', async () => {
    const { e, requests } = expirer({
      stored: session({ allocationId: null, settings: { isPinAuthenticationRequired: false } } as never),
      mark: { allocationId: 'A2', settings: { isPinAuthenticationRequired: true } } as never,
    });
    await e.expireIfDue('S1', { now: true });
    expect(requests).toEqual([
      expect.objectContaining({ allocationId: 'A2' }),
      expect.objectContaining({ sessionId: 'S1' }),
    ]);
  });

  it('a mark that fails releases nothing: the session, still live, keeps its number and PINs (its expiry may yet move)', async () => {
    const { e, steps, requests } = expirer({
      stored: session(),
      mark: new Error('the store is unavailable'),
    });
    await expect(e.expireIfDue('S1')).rejects.toThrow('the store is unavailable');
    expect(steps).toEqual(['claim', 'read', 'mark', 'drop']);
    expect(requests).toEqual([]);
  });

  it('a failure after the mark keeps the claim (others wait it out) and lets this replica take it again; a failure before it leaves nothing marked', async () => {
    const failed = expirer({ stored: session(), release: new Error('number-pool did not answer') });
    await expect(failed.e.expireIfDue('S1')).rejects.toThrow('number-pool did not answer');
    expect(failed.steps).toEqual(['claim', 'read', 'mark', ReleaseAllocation.subject, 'drop']);
    const unread = expirer({ stored: new Error('the store is unavailable') });
    await expect(unread.e.expireIfDue('S1')).rejects.toThrow('the store is unavailable');
    expect(unread.steps).toEqual(['claim', 'read', 'drop']);
  });

  it('ended, but the claim could not say so: still ended (a later look finds it gone from the store)', async () => {
    const { e, steps } = expirer({ stored: session(), finish: new Error('no responders') });
    await expect(e.expireIfDue('S1')).resolves.toEqual({ kind: 'ended' });
    expect(steps.slice(-3)).toEqual(['move as ended', 'give back', 'finish']);
  });
});
