import pino from 'pino';
import type { RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import type { SessionServiceConfig } from '../config/session-service.config';
import type { SessionAnnouncer } from '../sessions/session-announcer';
import type { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import type { AllocationFates } from './allocation-fates.repository';
import { OrphanReaper } from './orphan-reaper';
import type { SagaStepDocument } from './saga-step.schema';
import type { SagaStepsRepository } from './saga-steps.repository';

const NOW = new Date('2026-06-01T12:00:00Z').getTime();

function step(sessionId: string, kind: 'allocation' | 'pins', ref: string): SagaStepDocument {
  return {
    _id: `${sessionId}:${kind}:${ref}`,
    sessionId,
    accountId: 'MAACCOUNT',
    subaccountId: null,
    kind,
    ref,
    createdAt: new Date(NOW - 60_000),
  };
}

function session(id: string, over: Partial<SessionDocument> = {}): SessionDocument {
  return {
    _id: id,
    accountId: 'MAACCOUNT',
    subaccountId: null,
    status: 'active',
    virtualNumber: '+14155550100',
    allocationId: `alloc-${id}`,
    firstParty: '+14155550001',
    secondParty: '+14155550002',
    createdAt: new Date(NOW - 60_000),
    modifiedAt: new Date(NOW - 60_000),
    expiresAt: new Date(NOW + 600_000),
    ...over,
  } as unknown as SessionDocument;
}

/** The reaper over stores that hold `steps` and `sessions`, recording what it releases and announces. */
function reaperOver(steps: SagaStepDocument[], sessions: Map<string, SessionDocument>) {
  const released: string[] = [];
  const announced: string[] = [];
  const forgotten: string[] = [];
  const reaper = new OrphanReaper(
    {
      olderThanSystemWide: async () => steps,
      forgetSystemWide: async (id: string) => void forgotten.push(id),
    } as unknown as SagaStepsRepository,
    {
      fenceCreationSystemWide: async ({ sessionId }: { sessionId: string }) =>
        sessions.get(sessionId) ?? null,
    } as unknown as SessionRepository,
    { decide: async () => true } as unknown as AllocationFates,
    {
      request: async (_contract: unknown, payload: { allocationId?: string; sessionId?: string }) =>
        void released.push(payload.allocationId ?? `pins:${payload.sessionId}`),
    } as unknown as RpcClient,
    { created: async (doc: SessionDocument) => void announced.push(doc._id) } as unknown as SessionAnnouncer,
    { REAPER_INTERVAL_MS: 60_000, ORPHAN_AGE_MS: 30_000 } as SessionServiceConfig,
    pino({ enabled: false }),
    new MetricsService('orphan-reaper-spec'),
  );
  const run = () => (reaper as unknown as { runOnce(): Promise<void> }).runOnce();
  return { run, released, announced, forgotten };
}

describe('OrphanReaper', () => {
  beforeEach(() => jest.useFakeTimers({ now: NOW, doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('announces a live session whose creation stopped after storing it, and keeps its number', async () => {
    const s = session('s1');
    const w = reaperOver([step('s1', 'allocation', 'alloc-s1')], new Map([['s1', s]]));
    await w.run();
    expect(w.announced).toEqual(['s1']);
    expect(w.released).toEqual([]);
    expect(w.forgotten).toEqual(['s1:allocation:alloc-s1']);
  });

  it('gives back an allocation that is not its session’s, and announces nothing', async () => {
    const w = reaperOver(
      [step('s1', 'allocation', 'alloc-other'), step('s2', 'allocation', 'alloc-s2')],
      new Map([['s1', session('s1')]]),
    );
    await w.run();
    expect(w.released).toEqual(['alloc-other', 'alloc-s2']);
    expect(w.announced).toEqual([]);
  });

  it('announces no session that has ended, is past its expiry, or is a Proxy session (its add announces it)', async () => {
    const w = reaperOver(
      [
        step('ended', 'allocation', 'alloc-ended'),
        step('due', 'allocation', 'alloc-due'),
        step('proxy', 'allocation', 'alloc-proxy'),
      ],
      new Map([
        ['ended', session('ended', { status: 'expired' })],
        ['due', session('due', { expiresAt: new Date(NOW - 1) })],
        ['proxy', session('proxy', { proxy: { serviceSid: 'KS1' } as unknown as SessionDocument['proxy'] })],
      ]),
    );
    await w.run();
    expect(w.announced).toEqual([]);
    expect(w.released).toEqual([]);
  });
});
