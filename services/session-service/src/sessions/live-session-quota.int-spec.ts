import type { INestApplicationContext } from '@nestjs/common';
import {
  CodedError,
  CreateProxyService,
  CreateProxySession,
  SessionErrorCodes,
  UpdateProxySession,
  type AccountScope,
} from '@maskline/contracts';
import { KeyValueStores, SharedCounters } from '@maskline/messaging';
import { TestNatsClient, type RunningProcess } from '@maskline/testing';
import { LIVE_SESSIONS_BUCKET } from './live-session-quota';
import { LiveSessionRecount } from './live-session-recount';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';

const LIMIT = 3;
const TENANT: AccountScope = { accountId: 'MALIVESESSIONQUOTA01' };
const OTHER: AccountScope = { accountId: 'MALIVESESSIONQUOTA02' };

describe('a bound on each account’s live sessions (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let counters: SharedCounters;

  beforeAll(async () => {
    ({ nats, app } = await startSessionServiceTestApp('live-session-quota', {
      LIVE_SESSIONS_MAX: String(LIMIT),
    }));
    client = await TestNatsClient.connect(nats.url);
    counters = new SharedCounters(app.get(KeyValueStores), LIVE_SESSIONS_BUCKET);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  const serviceOf = async (scope: AccountScope) =>
    (
      await client.request(CreateProxyService, {
        scope,
        settings: { uniqueName: `quota-${scope.accountId}-${Math.random().toString(36).slice(2)}` },
      })
    ).sid;
  const create = (scope: AccountScope, service: string) =>
    client.request(CreateProxySession, { scope, service, participants: [] });
  const close = (scope: AccountScope, service: string, session: string) =>
    client.request(UpdateProxySession, { scope, service, session, status: 'closed' });

  it('refuses the account’s session past its bound (concurrent creates included), names the rule, leaves other accounts alone, and takes one again once one has ended', async () => {
    const service = await serviceOf(TENANT);
    // Twice the bound at once, as replicas racing would see them: exactly LIMIT are made.
    const results = await Promise.allSettled(
      Array.from({ length: 2 * LIMIT }, () => create(TENANT, service)),
    );
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as CodedError] : []));
    expect(made).toHaveLength(LIMIT);
    expect(refused.map((e) => e.code)).toEqual(Array(LIMIT).fill(SessionErrorCodes.LIVE_SESSIONS_LIMIT));
    expect(refused[0].message).toBe(
      `this account holds ${LIMIT} live sessions, the most it may; end some, or wait for them to expire`,
    );
    // Another account is not held back by this one's.
    const others = await serviceOf(OTHER);
    await expect(create(OTHER, others)).resolves.toMatchObject({ status: 'open' });
    // A refusal takes nothing: ended, one session makes room for exactly one more.
    await close(TENANT, service, made[0].sid);
    await expect(create(TENANT, service)).resolves.toMatchObject({ status: 'open' });
    await expect(create(TENANT, service)).rejects.toMatchObject({
      code: SessionErrorCodes.LIVE_SESSIONS_LIMIT,
    });
  });

  it('recounts from the store what a crash left miscounted, keeping what changed meanwhile', async () => {
    const scope: AccountScope = { accountId: 'MALIVESESSIONQUOTA03' };
    const service = await serviceOf(scope);
    await create(scope, service);
    // As a creation that took one and died before its write (never stored): counted, not live.
    await counters.add(scope.accountId, 2);
    await expect(create(scope, service)).rejects.toMatchObject({
      code: SessionErrorCodes.LIVE_SESSIONS_LIMIT,
    });
    await app.get(LiveSessionRecount).runNow();
    expect((await counters.read(scope.accountId)).n).toBe(1);
    await create(scope, service);
    await create(scope, service);
    await expect(create(scope, service)).rejects.toMatchObject({
      code: SessionErrorCodes.LIVE_SESSIONS_LIMIT,
    });
    // Counted one short (an end given back twice): the recount puts it right, and the bound holds.
    await counters.add(scope.accountId, -1);
    await app.get(LiveSessionRecount).runNow();
    expect((await counters.read(scope.accountId)).n).toBe(LIMIT);
  });
});
