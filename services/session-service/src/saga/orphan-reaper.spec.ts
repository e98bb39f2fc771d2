import type { Logger } from 'pino';
import { CodedError, DEFAULT_SESSION_SETTINGS, ErrorCodes, ReleaseAllocation } from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import type { MetricsService } from '@maskline/observability';
import type { SessionServiceConfig } from '../config/session-service.config';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import type { ProxySessionNameRepository } from '../proxy-sessions/proxy-session-name.repository';
import type { ProxyStickyNumbers } from '../proxy-sessions/proxy-sticky-numbers';
import type { SessionAnnouncer } from '../sessions/session-announcer';
import type { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import type { SessionWriteTurns } from '../sessions/session-write-turns';
import type { AllocationFates } from './allocation-fates.repository';
import type { CreationVerdict, CreationVerdicts } from './creation-verdicts';
import { verdictKnown } from './creation-verdicts';
import { OrphanReaper } from './orphan-reaper';
import type { SagaStepDocument } from './saga-step.schema';
import type { SagaStepsRepository } from './saga-steps.repository';

const ACCOUNT = 'MA000000000000000001';

/** A session a creation stored with the number its allocation step names. */
const stored = (over: Partial<SessionDocument> = {}): SessionDocument =>
  ({
    _id: 's1',
    accountId: ACCOUNT,
    subaccountId: null,
    firstParty: '+16285550001',
    secondParty: '+16285550002',
    virtualNumber: '+14155550100',
    allocationId: 'a1',
    status: 'active',
    settings: DEFAULT_SESSION_SETTINGS,
    createdAt: new Date(),
    modifiedAt: new Date(),
    expiresAt: new Date(Date.now() + 3600_000),
    durationSeconds: 3600,
    expiredAt: null,
    ...over,
  }) as SessionDocument;

/** The reaper over one allocation step of session s1, with every port faked; what it did. */
function reaper(world: {
  session: SessionDocument | null;
  /** The verdict taken first by the creation (none: the reaper's own, `failed`). */
  verdictTaken?: CreationVerdict;
  /** The marking write fails so. */
  markFails?: Error;
  stepAgeMs?: number;
  /** The step is an earlier release's creation's, which took no verdict. */
  earlierRelease?: boolean;
  /** A Proxy allocation's fate: taken `reaped` by the reaper (true), or `kept` by its add first. */
  reaped?: boolean;
  /** Whether the fence of a Proxy session's first-participant write finds it still without a number. */
  fenced?: boolean;
  /** The session's write turn is taken (an add under way). */
  turnTaken?: boolean;
  /** The session as read again just before an announcement (else as the pass read it). */
  readAgain?: SessionDocument | null;
  /** The step is a Proxy Session create's first participant's. */
  forCreate?: boolean;
  /** The step was forgotten (by its add) after the pass read it. */
  stepGone?: boolean;
  /** Marking a Proxy session deleted fails. */
  deleteFails?: boolean;
}) {
  const did: string[] = [];
  const step = {
    _id: 'step-1',
    sessionId: 's1',
    accountId: ACCOUNT,
    subaccountId: null,
    kind: 'allocation',
    ref: 'a1',
    createdAt: new Date(Date.now() - (world.stepAgeMs ?? 60_000)),
    ...(world.earlierRelease ? {} : { takesVerdict: true }),
    ...(world.forCreate ? { forCreate: true } : {}),
  } as SagaStepDocument;
  const steps = {
    olderThanSystemWide: async () => [step],
    forgetSystemWide: async () => void did.push('forget step'),
    stillThere: async () => !world.stepGone,
  } as unknown as SagaStepsRepository;
  const sessions = {
    fenceCreationSystemWide: async () => world.session,
    markProxyDeleted: async (_scope: unknown, id: string) => {
      if (world.deleteFails) throw new Error('the store is unavailable');
      did.push(`delete ${id}`);
    },
    getLiveSystemWide: async () => (world.readAgain === undefined ? world.session : world.readAgain),
    fenceFirstJoin: jest.fn(async () => {
      did.push('fence');
      return world.fenced ?? true;
    }),
    updateActive: jest.fn(async (_scope: unknown, _id: string, set: Partial<SessionDocument>) => {
      if (world.markFails) throw world.markFails;
      did.push(`mark ${JSON.stringify(Object.keys(set))}`);
      return true;
    }),
  } as unknown as SessionRepository;
  const verdicts = {
    decide: jest.fn(async (_id: string, wanted: CreationVerdict) => {
      did.push(`decide ${wanted}`);
      return { verdict: world.verdictTaken ?? wanted, taken: !world.verdictTaken };
    }),
  } as unknown as CreationVerdicts;
  const announcer = {
    created: jest.fn(async (doc: SessionDocument) => void did.push(`announce ${doc._id}`)),
  } as unknown as SessionAnnouncer;
  const expiry = {
    schedule: jest.fn(
      (id: string, at: Date) => void did.push(`end ${id} ${at.getTime() <= Date.now() ? 'now' : 'later'}`),
    ),
  } as unknown as ExpiryScheduler;
  const rpc = {
    request: async (contract: { subject: string }) => void did.push(contract.subject),
  } as unknown as RpcClient;
  const logger = { info: () => undefined, warn: () => undefined } as unknown as Logger;
  const subject = new OrphanReaper(
    steps,
    sessions,
    // The reaper asks to reap; it wins unless the add kept the allocation first.
    {
      decide: async (_account: string, _id: string, fate: string) =>
        fate === 'reaped' && (world.reaped ?? true),
    } as unknown as AllocationFates,
    verdicts,
    announcer,
    expiry,
    rpc,
    // The session's turn: taken by an add under way (`turnTaken`), else run at once.
    {
      during: jest.fn(async (_a: string, _s: string, change: () => Promise<unknown>) => {
        if (world.turnTaken) throw new CodedError(ErrorCodes.CONFLICT, 'being changed', { retryable: true });
        return change();
      }),
    } as unknown as SessionWriteTurns,
    {
      remember: async (_a: string, serviceSid: string, identifier: string, number: string) =>
        void did.push(`remember ${serviceSid} ${identifier} ${number}`),
    } as unknown as ProxyStickyNumbers,
    {
      release: async (_a: string, serviceSid: string, name: string, id: string) =>
        void did.push(`free name ${serviceSid} ${name} of ${id}`),
    } as unknown as ProxySessionNameRepository,
    { ORPHAN_AGE_MS: 30_000, REAPER_INTERVAL_MS: 5000 } as SessionServiceConfig,
    logger,
    { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService,
  );
  const pass = () => (subject as unknown as { runOnce(): Promise<void> }).runOnce();
  return { pass, did, sessions, verdicts, steps };
}

describe('the orphan reaper, on a live session stored by a creation that left its number’s step behind', () => {
  it('its creation took the verdict first: it lives, announced again under its message id (a no-op, unless the creation died before announcing), and the step goes', async () => {
    const { pass, did } = reaper({ session: stored(), verdictTaken: 'announced' });
    await pass();
    expect(did).toEqual(['decide failed', 'announce s1', 'forget step']);
  });

  it('its creation took the verdict first, longer ago than the stream drops a repeat: not announced again (it could be a second announcement)', async () => {
    const { pass, did } = reaper({
      session: stored({ createdAt: new Date(Date.now() - 20 * 60_000) }),
      verdictTaken: 'announced',
    });
    await pass();
    expect(did).toEqual(['decide failed', 'forget step']);
  });

  it('a step that cannot be dealt with now (NATS away) is left for the next pass, and holds up no other', async () => {
    const { pass, did, verdicts } = reaper({ session: stored() });
    (verdicts.decide as jest.Mock).mockRejectedValueOnce(new Error('NATS away'));
    await pass();
    expect(did).toEqual([]);
  });

  it('never announced (its creation failed, or died): marked a failed creation in the write that ends it now, then ended here', async () => {
    const { pass, did, sessions } = reaper({ session: stored() });
    await pass();
    expect(did).toEqual([
      'decide failed',
      'mark ["failedCreation","expiresAt","modifiedAt"]',
      'end s1 now',
      'forget step',
    ]);
    const set = (sessions.updateActive as jest.Mock).mock.calls[0]![2] as Partial<SessionDocument>;
    expect(set.failedCreation).toBe(true);
  });

  it('the mark not written: the step stays, and the next pass, finding the verdict taken, ends it', async () => {
    const world = { session: stored(), markFails: new Error('store away') as Error | undefined };
    const first = reaper(world);
    await first.pass();
    expect(first.did).toEqual(['decide failed']);
    world.markFails = undefined;
    const next = reaper({ ...world, verdictTaken: 'failed' });
    await next.pass();
    expect(next.did).toEqual([
      'decide failed',
      'mark ["failedCreation","expiresAt","modifiedAt"]',
      'end s1 now',
      'forget step',
    ]);
  });

  it('older than its verdict is kept, or an earlier release’s creation (which took none): nothing is decided; it ends at its time', async () => {
    for (const world of [{ stepAgeMs: 3 * 3600_000 }, { earlierRelease: true }]) {
      const { pass, did } = reaper({ session: stored(), ...world });
      await pass();
      expect(did).toEqual(['forget step']);
    }
  });

  it('ended already, or a Proxy session (announced with its first participant), or holding another allocation: not settled here', async () => {
    for (const session of [stored({ status: 'expired' })]) {
      const { pass, did } = reaper({ session });
      await pass();
      expect(did).toEqual(['forget step']);
    }
    const other = reaper({ session: stored({ allocationId: 'a2' }) });
    await other.pass();
    expect(other.did).toEqual([ReleaseAllocation.subject, 'forget step']);
  });
});

describe('the orphan reaper, on a Proxy participant’s allocation its session does not show', () => {
  const proxy = (over: Partial<SessionDocument> = {}) =>
    stored({
      proxy: { serviceSid: 'KS1' } as SessionDocument['proxy'],
      firstParty: null,
      secondParty: null,
      virtualNumber: null,
      allocationId: null,
      ...over,
    });

  it('holding the number whose step its add left (its write landed though the add could not tell): announced, under the add’s message id, its number remembered as the participant’s, and the step goes', async () => {
    const joined = proxy({
      virtualNumber: '+14155550100',
      allocationId: 'a1',
      firstParty: '+16285550001',
      modifiedAt: new Date(),
    });
    const { pass, did } = reaper({ session: joined });
    await pass();
    expect(did).toEqual(['announce s1', 'remember KS1 +16285550001 +14155550100', 'forget step']);
    // Ended between the pass's read and the announcement: read again, not announced as live (its end
    // gives the number back).
    const ended = reaper({ session: joined, readAgain: { ...joined, status: 'expired' } as SessionDocument });
    await ended.pass();
    expect(ended.did).toEqual(['forget step']);
    // Longer ago than the stream drops a repeat: not announced again (it could be a second announcement).
    const old = reaper({
      session: proxy({ virtualNumber: '+14155550100', allocationId: 'a1', firstParty: '+16285550001' }),
      stepAgeMs: 3600_000,
    });
    await old.pass();
    expect(old.did).toEqual(['forget step']);
  });

  it('holding the number of a Session create’s first participant (the create failed, its discard too): discarded as a failed creation, in the session’s turn, not announced', async () => {
    const joined = proxy({
      virtualNumber: '+14155550100',
      allocationId: 'a1',
      firstParty: '+16285550001',
      proxy: { serviceSid: 'KS1', uniqueName: 'ride-1' } as SessionDocument['proxy'],
    });
    const { pass, did, sessions } = reaper({ session: joined, forCreate: true });
    await pass();
    // Discarded as its create would have: deleted, its UniqueName freed, then ended (no callback):
    // ended first, a pass after a failed delete would find it ended and let the step go.
    expect(did).toEqual([
      'delete s1',
      'free name KS1 ride-1 of s1',
      'mark ["failedCreation","expiresAt","modifiedAt"]',
      'end s1 now',
      'forget step',
    ]);
    expect(sessions.updateActive).toHaveBeenCalledWith({ accountId: ACCOUNT }, 's1', expect.anything());
    // The create forgot its step meanwhile (it announced the session and answers with it): left as it is.
    const gone = reaper({ session: joined, forCreate: true, stepGone: true });
    await gone.pass();
    expect(gone.did).toEqual(['forget step']);
    // Not deleted (the store away): not ended either, and the step stays for the next pass.
    const undeleted = reaper({ session: joined, forCreate: true, deleteFails: true });
    await undeleted.pass();
    expect(undeleted.did).toEqual([]);
    // An add of the session holds its turn: looked at again next pass.
    const busy = reaper({ session: joined, forCreate: true, turnTaken: true });
    await busy.pass();
    expect(busy.did).toEqual([]);
  });

  it('taken by the reaper before its add kept it: given back', async () => {
    const { pass, did } = reaper({ session: proxy(), reaped: true });
    await pass();
    expect(did).toEqual([ReleaseAllocation.subject, 'forget step']);
  });

  it('kept by an add that never stored it (its write failed unanswered, or its process died): given back once its write is fenced', async () => {
    const { pass, did, sessions } = reaper({
      session: proxy({ joinFence: 'f1' }),
      reaped: false,
      fenced: true,
    });
    await pass();
    expect(sessions.fenceFirstJoin).toHaveBeenCalledWith({ accountId: ACCOUNT }, 's1', 'f1');
    expect(did).toEqual(['fence', ReleaseAllocation.subject, 'forget step']);
  });

  it('kept, while the session got its number meanwhile, or an add holds its turn: left for the next pass (it may be this one’s)', async () => {
    const { pass, did } = reaper({ session: proxy(), reaped: false, fenced: false });
    await pass();
    expect(did).toEqual(['fence']);
    const busy = reaper({ session: proxy(), reaped: false, turnTaken: true });
    await busy.pass();
    expect(busy.did).toEqual([]);
    expect(busy.sessions.fenceFirstJoin).not.toHaveBeenCalled();
  });

  it('kept, while the session holds another allocation’s number, or has ended: given back (its write can no longer land)', async () => {
    for (const session of [
      proxy({ virtualNumber: '+14155550100', allocationId: 'a2', firstParty: '+16285550001' }),
      proxy({ status: 'expired' }),
    ]) {
      const { pass, did } = reaper({ session, reaped: false, fenced: false });
      await pass();
      expect(did).toEqual([ReleaseAllocation.subject, 'forget step']);
    }
  });
});

describe('the orphan reaper’s passes', () => {
  it('go on from where the last one stopped, back to the oldest once one reads to the end: steps that stay unsettled hold up no others', async () => {
    const { pass, steps } = reaper({ session: null });
    const page = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        _id: `step-${from + i}`,
        sessionId: `s${from + i}`,
        accountId: ACCOUNT,
        kind: 'pins',
        ref: `s${from + i}`,
        createdAt: new Date(1_000 + from + i),
      }));
    const asked: Array<number | undefined> = [];
    const pages = [page(0, 200), page(200, 3), page(0, 1)];
    (steps as unknown as { olderThanSystemWide: unknown }).olderThanSystemWide = async (
      _at: Date,
      limit: number,
      after?: Date,
    ) => {
      expect(limit).toBe(200);
      asked.push(after?.getTime());
      return pages.shift() ?? [];
    };
    await pass();
    await pass();
    await pass();
    // After the full page's last; then, that page short, from the oldest again.
    expect(asked).toEqual([0, 1_199, 0]);
  });
});

describe('a creation verdict', () => {
  it('is counted on for the first hour and fifty minutes of a creation only', () => {
    const began = new Date('2026-12-01T00:00:00Z');
    expect(verdictKnown(began, began.getTime() + 109 * 60_000)).toBe(true);
    expect(verdictKnown(began, began.getTime() + 110 * 60_000)).toBe(false);
  });
});
