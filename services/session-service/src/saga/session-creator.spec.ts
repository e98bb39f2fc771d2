import type { Logger } from 'pino';
import {
  AllocateNumber,
  CodedError,
  DEFAULT_SESSION_SETTINGS,
  ErrorCodes,
  PinErrorCodes,
  PoolErrorCodes,
  RegisterSessionPins,
  SessionErrorCodes,
  SessionCreated,
  ReleaseAllocation,
  ReleaseSessionPins,
  type CreateSession,
  type RpcContract,
  type RpcParsedRequestOf,
  type SessionView,
} from '@maskline/contracts';
import type { EventPublisher, RpcClient } from '@maskline/messaging';
import { SessionAnnouncer } from '../sessions/session-announcer';
import type { MetricsService } from '@maskline/observability';
import type { SessionServiceConfig } from '../config/session-service.config';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import type { IdempotencyKeys } from '../idempotency/idempotency-keys';
import type { SessionRepository } from '../sessions/session.repository';
import type { SessionViews } from '../sessions/session-views';
import type { SagaCheckpoint } from './saga-checkpoints';
import type { SagaStepsRepository } from './saga-steps.repository';
import type { CreationVerdict, CreationVerdicts, VerdictReservation } from './creation-verdicts';
import { CreationAllowance } from './creation-allowance';
import { SessionCreator } from './session-creator';
import { announceWithinMs } from '../sessions/session-announcer';
import { countingLiveSessionQuota } from '../sessions/counting-live-session-quota.test-fixture';

const SCOPE = { accountId: 'MA000000000000000001' };
const NUMBERS = ['+14155550100', '+14155550101', '+14155550102'];

type Answer = unknown | Error;

/** The saga with every port automocked: what each step answers, and what happened. */
function saga(world: {
  allocations?: Answer[];
  pins?: Answer[];
  insert?: Error;
  /** The orphan reaper's tombstone took the session id first. */
  fenced?: boolean;
  /** What the saga's own fence finds after an unanswered session write. */
  fence?: 'fenced' | 'stored' | Error;
  /** The Idempotency-Key names a creation the orphan reaper abandoned. */
  abandoned?: boolean;
  publish?: Error;
  idempotent?: { kind: 'existing'; sessionId: string; claimedAt?: Date };
  /** The key's claim fails so. */
  claim?: Error;
  /** Whether the session a claimed key names is stored (default yes, unless abandoned). */
  stored?: boolean;
  /** What the stored session a claimed key names holds, besides its id. */
  storedAs?: Record<string, unknown>;
  attempts?: number;
  /**
   * The verdict taken before the first session asked about was (by the orphan reaper, or by its own
   * creation); none: nobody had asked.
   */
  verdictTaken?: CreationVerdict;
  /** Taking the verdict fails so (NATS away, or its answer lost). */
  verdictFails?: Error;
  /** Reserving room for the verdict fails so (its memory full, or NATS away). */
  reserveFails?: Error;
  /** The account's creation allowance (`CreationAllowance`) refuses with this. */
  allowanceRefuses?: Error;
  /** The account's bound on live sessions (none when unset). */
  liveLimit?: number;
}) {
  const { quota, live } = countingLiveSessionQuota(world.liveLimit);
  const calls: string[] = [];
  const allocations = [...(world.allocations ?? [])];
  const pins = [...(world.pins ?? [])];
  const take = (queue: Answer[], fallback: Answer) => {
    const next = queue.length > 0 ? queue.shift() : fallback;
    if (next instanceof Error) throw next;
    return next;
  };
  let allocated = 0;
  let keyForgotten = false;
  const rpc = {
    request: jest.fn(async (contract: RpcContract, payload: Record<string, unknown>) => {
      calls.push(
        `${contract.subject} ${JSON.stringify(payload.excludeNumbers ?? payload.allocationId ?? payload.sessionId ?? '')}`,
      );
      if (contract.subject === AllocateNumber.subject) {
        return take(allocations, { virtualNumber: NUMBERS[allocated++] ?? NUMBERS[0], country: 'US' });
      }
      if (contract.subject === RegisterSessionPins.subject)
        return take(pins, { first: '482193', second: '771530' });
      if (contract.subject === ReleaseAllocation.subject) return { released: 2 };
      if (contract.subject === ReleaseSessionPins.subject) return { released: 2 };
      throw new Error(contract.subject);
    }),
  } as unknown as RpcClient;
  const store = {
    insert: jest.fn(async () => {
      calls.push('store');
      if (world.insert) throw world.insert;
      return !world.fenced;
    }),
    fenceCreationSystemWide: jest.fn(async () => {
      calls.push('fence');
      if (world.fence instanceof Error) throw world.fence;
      // Found stored, unless what holds the id is the orphan reaper's tombstone.
      return world.fence === 'stored' && !world.abandoned ? { _id: 'stored' } : null;
    }),
    get: jest.fn(async () =>
      world.abandoned || world.stored === false
        ? null
        : { _id: 'existing', createdAt: new Date(), ...world.storedAs },
    ),
    isAbandonedSystemWide: jest.fn(async () => Boolean(world.abandoned)),
  } as unknown as SessionRepository;
  const events = {
    publish: jest.fn(async () => {
      calls.push('announce');
      if (world.publish) throw world.publish;
      return { seq: 1, duplicate: false };
    }),
  } as unknown as EventPublisher;
  const steps = {
    record: jest.fn(async () => undefined),
    forgetSession: jest.fn(async () => void calls.push('forget steps')),
  } as unknown as SagaStepsRepository;
  const views = {
    render: jest.fn(async (doc: { _id: string }) => ({ sessionId: doc._id }) as SessionView),
  } as unknown as SessionViews;
  const keys = {
    claim: jest.fn(async (_s: unknown, _i: unknown, id: string) => {
      if (world.claim) throw world.claim;
      return world.idempotent && !keyForgotten
        ? { claimedAt: new Date(), ...world.idempotent }
        : { kind: 'new', sessionId: id, claimedAt: new Date() };
    }),
    finished: jest.fn(async () => void calls.push('key-finished')),
    forget: jest.fn(async () => {
      keyForgotten = true;
      calls.push('forget key');
    }),
  } as unknown as IdempotencyKeys;
  const expiry = {
    schedule: jest.fn((_id: string, at: Date) => {
      if (at.getTime() <= Date.now()) calls.push('end at its time, now');
    }),
    endNow: jest.fn(async () => void calls.push('end now')),
  } as unknown as ExpiryScheduler;
  /** Verdict keys reserved, and given back, by session id. */
  const reserved: string[] = [];
  const withdrawn: string[] = [];
  const verdicts = {
    reserve: jest.fn(async (sessionId: string) => {
      if (world.reserveFails) throw world.reserveFails;
      reserved.push(sessionId);
      return { sessionId, revision: reserved.length };
    }),
    withdraw: jest.fn(async (reservation: VerdictReservation) => void withdrawn.push(reservation.sessionId)),
    // Taken on the first session asked about; each later one is the creation's own.
    decide: jest.fn(async (_id: string, wanted: CreationVerdict) => {
      if (world.verdictFails) throw world.verdictFails;
      const first = (verdicts.decide as jest.Mock).mock.calls.length === 1;
      return first && world.verdictTaken
        ? { verdict: world.verdictTaken, taken: false }
        : { verdict: wanted, taken: true };
    }),
  } as unknown as CreationVerdicts;
  const allowance = {
    take: jest.fn(async () => {
      if (world.allowanceRefuses) throw world.allowanceRefuses;
    }),
  } as unknown as CreationAllowance;
  const reached: SagaCheckpoint[] = [];
  const config = {
    SESSION_ALLOCATION_ATTEMPTS: world.attempts ?? 3,
    ORPHAN_AGE_MS: 30_000,
  } as SessionServiceConfig;
  const creator = new SessionCreator(
    rpc,
    new SessionAnnouncer(events, config, store),
    store,
    steps,
    verdicts,
    views,
    keys,
    expiry,
    quota,
    allowance,
    config,
    { reached: (p: SagaCheckpoint) => void reached.push(p) },
    { info: () => undefined, warn: () => undefined } as unknown as Logger,
    { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService,
  );
  /** The account's live sessions as counted (`LiveSessionQuota`). */
  const counted = (id = SCOPE.accountId) => live.get(id) ?? 0;
  return { creator, calls, reached, store, steps, keys, events, verdicts, counted, reserved, withdrawn };
}

const request = (
  over: Partial<RpcParsedRequestOf<typeof CreateSession>> = {},
): RpcParsedRequestOf<typeof CreateSession> => ({
  scope: SCOPE,
  firstParty: '+16285550001',
  secondParty: '+16285550002',
  settings: { ...DEFAULT_SESSION_SETTINGS, isPinAuthenticationRequired: true, generatePin: true },
  firstPartyPin: null,
  secondPartyPin: null,
  idempotency: { key: 'order-1', requestHash: 'a'.repeat(64) },
  ...over,
});
const coded = (code: string) => new CodedError(code, code);
const names = (calls: string[]) => calls.map((c) => c.split(' ')[0]);
/** What a creation with PINs does, start to end. */
const MADE = [
  AllocateNumber.subject,
  RegisterSessionPins.subject,
  'store',
  'announce',
  'forget',
  'key-finished',
];
/** What a replay does that frees its Idempotency-Key and makes a new session. */
const MADE_AFRESH = ['forget', ...MADE];

describe('creating a session, as a saga', () => {
  it('allocates, registers PINs, stores, announces, passes every checkpoint in order, and remembers its Idempotency-Key as finished', async () => {
    const { creator, calls, reached } = saga({});
    await creator.create(request());
    expect(names(calls)).toEqual(MADE);
    expect(reached).toEqual([
      'after-allocation',
      'after-pins',
      'before-store',
      'after-store',
      'after-verdict',
      'after-announce',
    ]);
  });

  it('no number to be had: nothing is held, the Idempotency-Key is free again', async () => {
    const { creator, calls } = saga({ allocations: [coded(PoolErrorCodes.EXHAUSTED)] });
    await expect(creator.create(request())).rejects.toMatchObject({ code: PoolErrorCodes.EXHAUSTED });
    expect(names(calls)).toEqual([AllocateNumber.subject, 'forget', 'forget']);
  });

  it('number-pool does not answer in time: the allocation, which may still be made, is given back, and its step stays for the orphan reaper', async () => {
    const { creator, calls } = saga({ allocations: [coded(ErrorCodes.RPC_TIMEOUT)] });
    await expect(creator.create(request())).rejects.toMatchObject({ code: ErrorCodes.RPC_TIMEOUT });
    expect(names(calls)).toEqual([AllocateNumber.subject, ReleaseAllocation.subject, 'forget']);
  });

  it('pin-auth does not answer in time: the PINs it may still register and the number are given back, the steps stay', async () => {
    const { creator, calls } = saga({ pins: [coded(ErrorCodes.RPC_TIMEOUT)] });
    await expect(creator.create(request())).rejects.toMatchObject({ code: ErrorCodes.RPC_TIMEOUT });
    expect(names(calls)).toEqual([
      AllocateNumber.subject,
      RegisterSessionPins.subject,
      ReleaseSessionPins.subject,
      ReleaseAllocation.subject,
      'forget',
    ]);
  });

  it('the PIN service refuses the number: it is given back and another is asked for, excluding it', async () => {
    const { creator, calls } = saga({ pins: [coded(PinErrorCodes.CAPACITY)] });
    await creator.create(request());
    expect(calls.slice(0, 5)).toEqual([
      `${AllocateNumber.subject} []`,
      expect.stringMatching(new RegExp(`^${RegisterSessionPins.subject}`)),
      expect.stringMatching(new RegExp(`^${ReleaseAllocation.subject}`)),
      `${AllocateNumber.subject} ["${NUMBERS[0]}"]`,
      expect.stringMatching(new RegExp(`^${RegisterSessionPins.subject}`)),
    ]);
  });

  it('the PIN service refuses every number it is offered: the last refusal is the answer, nothing held', async () => {
    const refusal = coded(PinErrorCodes.CONFLICT);
    const { creator, calls } = saga({ pins: [refusal, refusal], attempts: 2 });
    await expect(creator.create(request())).rejects.toBe(refusal);
    const releases = calls.filter((c) => c.startsWith(ReleaseAllocation.subject));
    expect(releases).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith(ReleaseSessionPins.subject))).toEqual([]);
  });

  it('the PIN service is down: the number is given back', async () => {
    const { creator, calls } = saga({ pins: [coded(ErrorCodes.RPC_UNAVAILABLE)] });
    await expect(creator.create(request())).rejects.toMatchObject({ code: ErrorCodes.RPC_UNAVAILABLE });
    expect(names(calls)).toEqual([
      AllocateNumber.subject,
      RegisterSessionPins.subject,
      ReleaseAllocation.subject,
      'forget',
      'forget',
    ]);
  });

  it('the store write fails: PINs and number are given back', async () => {
    const { creator, calls } = saga({ insert: coded(ErrorCodes.RPC_UNAVAILABLE) });
    await expect(creator.create(request())).rejects.toBeDefined();
    expect(names(calls).slice(2)).toEqual([
      'store',
      ReleaseSessionPins.subject,
      ReleaseAllocation.subject,
      'forget',
      'forget',
    ]);
  });

  describe('the store does not answer the session write (it may still carry it out)', () => {
    /** What follows the store write once the fence holds: PINs and number back, steps and key forgotten. */
    const FENCED_AND_GIVEN_BACK = [
      'store',
      'fence',
      ReleaseSessionPins.subject,
      ReleaseAllocation.subject,
      'forget',
      'forget',
    ];
    const unanswered = () =>
      Object.assign(new Error('operation exceeded time limit'), { name: 'MongoOperationTimeoutError' });

    it('its id is fenced first; then PINs and number are given back', async () => {
      const { creator, calls } = saga({ insert: unanswered(), fence: 'fenced' });
      await expect(creator.create(request())).rejects.toThrow('operation exceeded time limit');
      expect(names(calls).slice(2)).toEqual(FENCED_AND_GIVEN_BACK);
    });

    it('the write landed after all: nothing is given back from under it; it ends as every session ends', async () => {
      const { creator, calls } = saga({ insert: unanswered(), fence: 'stored' });
      await expect(creator.create(request())).rejects.toThrow('operation exceeded time limit');
      expect(names(calls).slice(2)).toEqual(['store', 'fence', 'end', 'forget']);
    });

    it('the orphan reaper fenced it first: the fence finds its tombstone, and everything is given back', async () => {
      const { creator, calls } = saga({ insert: unanswered(), fence: 'stored', abandoned: true });
      await expect(creator.create(request())).rejects.toThrow('operation exceeded time limit');
      expect(names(calls).slice(2)).toEqual(FENCED_AND_GIVEN_BACK);
    });

    it('the fence is not answered either: nothing is given back, the steps stay for the orphan reaper, and the Idempotency-Key still names the session', async () => {
      const { creator, calls, steps, keys } = saga({ insert: unanswered(), fence: unanswered() });
      await expect(creator.create(request())).rejects.toThrow('operation exceeded time limit');
      expect(names(calls).slice(2)).toEqual(['store', 'fence']);
      expect(steps.forgetSession).not.toHaveBeenCalled();
      // Freed, a retry under it would make a second session beside the one the store may still write.
      expect(keys.forget).not.toHaveBeenCalled();
    });
  });

  it("the store is down, and stays down for the key's release too: the creation's own failure is the answer", async () => {
    const failure = coded(ErrorCodes.RPC_UNAVAILABLE);
    const { creator, keys } = saga({ insert: failure });
    (keys.forget as jest.Mock).mockRejectedValueOnce(new Error('store down'));
    await expect(creator.create(request())).rejects.toBe(failure);
    expect(keys.forget).toHaveBeenCalledTimes(1);
  });

  it('the orphan reaper abandoned the creation first: nothing is announced, all is given back, the answer is retryable', async () => {
    const { creator, calls } = saga({ fenced: true });
    await expect(creator.create(request())).rejects.toMatchObject({ code: ErrorCodes.ABANDONED });
    expect(names(calls).slice(2)).toEqual([
      'store',
      ReleaseSessionPins.subject,
      ReleaseAllocation.subject,
      'forget',
      'forget',
    ]);
    expect(calls).not.toContain('announce');
  });

  it('the announcement fails: the stored session (perhaps announced after all) is ended now, as sessions end', async () => {
    const { creator, calls } = saga({ publish: coded(ErrorCodes.RPC_TIMEOUT) });
    await expect(creator.create(request())).rejects.toMatchObject({ code: ErrorCodes.RPC_TIMEOUT });
    // The expiry releases number and PINs and announces the end (with retries); nothing is deleted.
    expect(calls.slice(2)).toEqual(['store', 'announce', 'end now', 'forget key']);
  });

  it('announced, then the bookkeeping fails: the session stands and the answer is a success', async () => {
    const { creator, calls, steps } = saga({});
    (steps.forgetSession as jest.Mock).mockRejectedValueOnce(new Error('store down'));
    await expect(creator.create(request())).resolves.toMatchObject({ sessionId: expect.any(String) });
    expect(names(calls)).not.toContain(ReleaseAllocation.subject);
    expect(names(calls)).not.toContain('end');
  });

  it('stored, then found taken for dead by the orphan reaper (a creation slower than ORPHAN_AGE_MS): never announced nor answered, ended, its key freed', async () => {
    const { creator, calls, verdicts } = saga({ verdictTaken: 'failed' });
    await expect(creator.create(request())).rejects.toMatchObject({
      code: ErrorCodes.ABANDONED,
      retryable: true,
    });
    expect(verdicts.decide).toHaveBeenCalledWith(expect.any(String), 'announced');
    expect(names(calls)).toEqual([
      AllocateNumber.subject,
      RegisterSessionPins.subject,
      'store',
      'end',
      'forget',
    ]);
  });

  it('stored, and its verdict not known (NATS away, or its answer lost): nothing is ended or given back, the key kept; the orphan reaper settles it', async () => {
    const away = new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'NATS away', { retryable: true });
    const { creator, calls, steps } = saga({ verdictFails: away });
    await expect(creator.create(request())).rejects.toBe(away);
    // A replay under the key may have taken the verdict and answered with the session meanwhile.
    expect(names(calls)).toEqual([AllocateNumber.subject, RegisterSessionPins.subject, 'store']);
    expect(steps.forgetSession).not.toHaveBeenCalled();
  });

  it('room for its verdict refused (the verdict memory full): nothing is held or stored, its place in the quota and its key given back', async () => {
    const full = new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'full', { retryable: true });
    const { creator, calls, counted, reserved } = saga({ reserveFails: full });
    await expect(creator.create(request())).rejects.toBe(full);
    // Its steps (none) and its Idempotency-Key forgotten: nothing else.
    expect(names(calls)).toEqual(['forget', 'forget']);
    expect(counted()).toBe(0);
    expect(reserved).toEqual([]);
  });

  it('past its account’s creation allowance: refused before it takes a live session, reserves room or holds anything', async () => {
    const limited = new CodedError(ErrorCodes.SESSION_CREATIONS_LIMITED, 'too many', {
      details: { retryAfterSeconds: 3 },
    });
    const { creator, calls, counted, reserved } = saga({ allowanceRefuses: limited });
    await expect(creator.create(request())).rejects.toBe(limited);
    expect(names(calls)).toEqual(['forget']);
    expect(counted()).toBe(0);
    expect(reserved).toEqual([]);
  });

  it('its verdict is taken once it reserved room for it; a creation that never stored its session gives the room back, one stored keeps it', async () => {
    const made = saga({});
    const view = await made.creator.create(request());
    expect(made.reserved).toEqual([view.sessionId]);
    expect(made.verdicts.decide).toHaveBeenCalledWith(view.sessionId, 'announced');
    expect(made.withdrawn).toEqual([]);

    const exhausted = saga({ allocations: [coded(PoolErrorCodes.EXHAUSTED)] });
    await expect(exhausted.creator.create(request())).rejects.toMatchObject({
      code: PoolErrorCodes.EXHAUSTED,
    });
    expect(exhausted.withdrawn).toEqual(exhausted.reserved);
    expect(exhausted.withdrawn).toHaveLength(1);

    // Stored, and ended for the reaper's verdict: its key holds that verdict.
    const reaped = saga({ verdictTaken: 'failed' });
    await expect(reaped.creator.create(request())).rejects.toMatchObject({ code: ErrorCodes.ABANDONED });
    expect(reaped.withdrawn).toEqual([]);
    // Stored, its verdict unknown: the reaper decides it in that room.
    const away = new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'NATS away', { retryable: true });
    const unknown = saga({ verdictFails: away });
    await expect(unknown.creator.create(request())).rejects.toBe(away);
    expect(unknown.withdrawn).toEqual([]);
  });

  it('a session without PINs holds only a number', async () => {
    const { creator, calls } = saga({});
    await creator.create(request({ settings: DEFAULT_SESSION_SETTINGS }));
    expect(names(calls)).toEqual([AllocateNumber.subject, 'store', 'announce', 'forget', 'key-finished']);
  });

  it('the store does not answer the key’s claim (it may be carried out later): the attempted session id is fenced, so a retry starts afresh', async () => {
    const unanswered = new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable');
    const { creator, calls, store } = saga({ claim: unanswered });
    await expect(creator.create(request())).rejects.toBe(unanswered);
    expect(calls).toStrictEqual(['fence']);
    const fenced = (store.fenceCreationSystemWide as jest.Mock).mock.calls[0]![0] as { sessionId: string };
    expect(fenced.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // A claim the store answered (another body, say) fences nothing.
    const refused = new CodedError(SessionErrorCodes.IDEMPOTENCY_MISMATCH, 'another body');
    const other = saga({ claim: refused });
    await expect(other.creator.create(request())).rejects.toBe(refused);
    expect(other.calls).toStrictEqual([]);
  });

  it('the same Idempotency-Key again gives the session it made, without a second saga', async () => {
    const { creator, calls } = saga({ idempotent: { kind: 'existing', sessionId: 'existing' } });
    await expect(creator.create(request())).resolves.toEqual({ sessionId: 'existing' });
    expect(calls).toEqual([]);
  });

  describe('the same Idempotency-Key again, its session live', () => {
    const live = {
      status: 'active',
      virtualNumber: NUMBERS[0],
      allocationId: 'a1',
      createdAt: new Date(),
      modifiedAt: new Date(),
      expiresAt: new Date(Date.now() + 3600_000),
      accountId: SCOPE.accountId,
      subaccountId: null,
      firstParty: '+16285550001',
      secondParty: '+16285550002',
      settings: DEFAULT_SESSION_SETTINGS,
    };

    it("within the stream's duplicate window: announced again under its own id (a no-op unless its store write landed after its creation failed)", async () => {
      const { creator, calls, events } = saga({
        idempotent: { kind: 'existing', sessionId: 'existing', claimedAt: new Date(Date.now() - 60_000) },
        storedAs: live,
      });
      await expect(creator.create(request())).resolves.toEqual({ sessionId: 'existing' });
      expect(calls).toEqual(['announce']);
      expect(events.publish).toHaveBeenCalledWith(SessionCreated, expect.anything(), {
        msgId: 'session-created:existing',
      });
    });

    it('within the window, after the orphan reaper took its creation for dead: not announced, the key freed and a new session made', async () => {
      const { creator, calls, verdicts } = saga({
        idempotent: { kind: 'existing', sessionId: 'existing', claimedAt: new Date(Date.now() - 60_000) },
        storedAs: live,
        verdictTaken: 'failed',
      });
      const made = await creator.create(request());
      expect(made.sessionId).not.toBe('existing');
      expect(verdicts.decide).toHaveBeenNthCalledWith(1, 'existing', 'announced');
      expect(names(calls)).toEqual(MADE_AFRESH);
    });

    it('past the window, its verdict never taken (its creation died between its store write and its verdict): taken now, and announced', async () => {
      const { creator, calls } = saga({
        idempotent: { kind: 'existing', sessionId: 'existing', claimedAt: new Date(Date.now() - 3600_000) },
        storedAs: live,
      });
      await expect(creator.create(request())).resolves.toEqual({ sessionId: 'existing' });
      expect(calls).toEqual(['announce']);
    });

    it('past the window (its creation, which took the verdict, long over), or ended: not announced again', async () => {
      const old = saga({
        idempotent: { kind: 'existing', sessionId: 'existing', claimedAt: new Date(Date.now() - 3600_000) },
        storedAs: live,
        verdictTaken: 'announced',
      });
      await expect(old.creator.create(request())).resolves.toEqual({ sessionId: 'existing' });
      const ended = saga({
        idempotent: { kind: 'existing', sessionId: 'existing' },
        storedAs: { ...live, status: 'expired' },
      });
      await expect(ended.creator.create(request())).resolves.toEqual({ sessionId: 'existing' });
      expect([old.calls, ended.calls]).toEqual([[], []]);
    });
  });

  it.each([
    ['a creation the orphan reaper abandoned', { sessionId: 'abandoned', world: { abandoned: true } }],
    [
      'a session stored after its creation failed, which the orphan reaper ended',
      {
        sessionId: 'existing',
        world: {
          storedAs: {
            status: 'expired',
            virtualNumber: NUMBERS[0],
            allocationId: 'a1',
            createdAt: new Date(),
            expiresAt: new Date(),
            failedCreation: true,
          },
        },
      },
    ],
  ])(
    'the Idempotency-Key names %s: the key is freed and a new session made',
    async (_case, { sessionId, world }) => {
      const { creator, calls } = saga({ idempotent: { kind: 'existing', sessionId }, ...world });
      const made = await creator.create(request());
      expect(made.sessionId).not.toBe(sessionId);
      expect(names(calls)).toEqual(MADE_AFRESH);
    },
  );

  describe('the Idempotency-Key names a session that was never stored, and no reaper abandoned it', () => {
    it('claimed a moment ago (a creation still running): the answer is "in progress", nothing is fenced', async () => {
      const { creator, calls } = saga({
        idempotent: { kind: 'existing', sessionId: 'running', claimedAt: new Date() },
        stored: false,
      });
      await expect(creator.create(request())).rejects.toMatchObject({
        code: SessionErrorCodes.IDEMPOTENCY_IN_PROGRESS,
      });
      expect(calls).toEqual([]);
    });

    it('claimed longer ago than any creation runs (its creation died before leaving a step): fenced, freed, made afresh', async () => {
      const { creator, calls, keys } = saga({
        idempotent: { kind: 'existing', sessionId: 'dead', claimedAt: new Date(Date.now() - 60_000) },
        stored: false,
      });
      const made = await creator.create(request());
      expect(made.sessionId).not.toBe('dead');
      expect(names(calls).slice(0, 3)).toEqual(['fence', 'forget', AllocateNumber.subject]);
      // Only the dead creation's claim is freed (a conditional delete on its session id).
      expect(keys.forget).toHaveBeenCalledWith(SCOPE, 'order-1', 'dead');
    });

    it('old, and stored just before the fence: not made twice', async () => {
      const { creator, calls } = saga({
        idempotent: { kind: 'existing', sessionId: 'late', claimedAt: new Date(Date.now() - 60_000) },
        stored: false,
        fence: 'stored',
      });
      await expect(creator.create(request())).rejects.toMatchObject({
        code: SessionErrorCodes.IDEMPOTENCY_IN_PROGRESS,
      });
      expect(calls).toEqual(['fence']);
    });
  });

  describe('one of the account’s live sessions (LiveSessionQuota)', () => {
    const unanswered = () =>
      Object.assign(new Error('operation exceeded time limit'), { name: 'MongoOperationTimeoutError' });

    it('is taken by the session made, and by one stored or that may be (its end gives it back); given back by one never stored', async () => {
      const cases: Array<[string, Parameters<typeof saga>[0], number]> = [
        ['made', {}, 1],
        ['no number to be had', { allocations: [coded(PoolErrorCodes.EXHAUSTED)] }, 0],
        ['the store write refused', { insert: coded(ErrorCodes.RPC_UNAVAILABLE) }, 0],
        ['the write unanswered, then fenced', { insert: unanswered(), fence: 'fenced' }, 0],
        ['the write unanswered, found stored', { insert: unanswered(), fence: 'stored' }, 1],
        ['the write and its fence unanswered', { insert: unanswered(), fence: unanswered() }, 1],
        ['stored, its announcement failed (ended now)', { publish: coded(ErrorCodes.RPC_UNAVAILABLE) }, 1],
      ];
      for (const [what, world, expected] of cases) {
        const { creator, counted } = saga(world);
        await creator.create(request()).catch(() => undefined);
        expect([what, counted()]).toEqual([what, expected]);
        // A subaccount's creation: its own count (its share of the account's) the same as its account's.
        const sub = saga(world);
        const subaccountId = 'SA000000000000000001';
        await sub.creator.create(request({ scope: { ...SCOPE, subaccountId } })).catch(() => undefined);
        expect([what, sub.counted(), sub.counted(subaccountId)]).toEqual([what, expected, expected]);
      }
    });

    it('past the account’s bound: refused before anything is held', async () => {
      const { creator, calls, counted } = saga({ liveLimit: 0 });
      await expect(creator.create(request())).rejects.toMatchObject({
        code: SessionErrorCodes.LIVE_SESSIONS_LIMIT,
      });
      expect(calls.filter((c) => !c.startsWith('forget'))).toEqual([]);
      expect(counted()).toBe(0);
    });
  });

  it('refuses what cannot be a session before holding anything', async () => {
    const { creator, calls } = saga({});
    await expect(creator.create(request({ secondParty: '+16285550001' }))).rejects.toMatchObject({
      code: ErrorCodes.VALIDATION,
      field: 'second_party',
    });
    await expect(
      creator.create(
        request({ settings: { ...DEFAULT_SESSION_SETTINGS, isPinAuthenticationRequired: true } }),
      ),
    ).rejects.toMatchObject({ field: 'first_party_pin' });
    expect(calls).toEqual([]);
  });
});

describe("how long a session write's announcement waits for the stream", () => {
  it("up to 5 s of the time the request has left, never less than the publisher's default", () => {
    expect(announceWithinMs(7700, 2000)).toBe(5000);
    expect(announceWithinMs(3500, 2000)).toBe(3500);
    expect(announceWithinMs(1000, 2000)).toBe(2000);
    expect(announceWithinMs(-4000, 2000)).toBe(2000);
    expect(announceWithinMs(7700, 6000)).toBe(6000);
  });
});
