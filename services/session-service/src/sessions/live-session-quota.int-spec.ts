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
import { LIVE_SESSIONS_BUCKET, SUBACCOUNT_LIVE_SESSIONS_BUCKET } from './live-session-quota';
import { LiveSessionRecount } from './live-session-recount';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';

const LIMIT = 3;
/** A subaccount's share: 2 of the account's 3. */
const SUBACCOUNT_PERCENT = 67;
const SUBACCOUNT_LIMIT = 2;
const TENANT: AccountScope = { accountId: 'MALIVESESSIONQUOTA01' };
const OTHER: AccountScope = { accountId: 'MALIVESESSIONQUOTA02' };

describe('a bound on each account’s live sessions (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let counters: SharedCounters;
  let subaccountCounters: SharedCounters;

  beforeAll(async () => {
    ({ nats, app } = await startSessionServiceTestApp('live-session-quota', {
      LIVE_SESSIONS_MAX: String(LIMIT),
      LIVE_SESSIONS_SUBACCOUNT_PERCENT: String(SUBACCOUNT_PERCENT),
    }));
    client = await TestNatsClient.connect(nats.url);
    counters = new SharedCounters(app.get(KeyValueStores), LIVE_SESSIONS_BUCKET);
    subaccountCounters = new SharedCounters(app.get(KeyValueStores), SUBACCOUNT_LIVE_SESSIONS_BUCKET);
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

  it('keeps one subaccount to its share of the account’s bound, naming which bound refused, and leaves the rest to the account and its other subaccounts', async () => {
    const main: AccountScope = { accountId: 'MALIVESESSIONQUOTA04' };
    const first: AccountScope = { ...main, subaccountId: 'SALIVESESSIONQUOTA4A' };
    const second: AccountScope = { ...main, subaccountId: 'SALIVESESSIONQUOTA4B' };
    const [mainService, firstService, secondService] = await Promise.all(
      [main, first, second].map(serviceOf),
    );
    const subaccountFull = `this subaccount holds ${SUBACCOUNT_LIMIT} live sessions, the most one subaccount may (${SUBACCOUNT_PERCENT} % of its account's ${LIMIT}); end some, or wait for them to expire`;
    const accountFull = `this account holds ${LIMIT} live sessions, the most it may; end some, or wait for them to expire`;

    // One subaccount racing for the whole bound gets its share, no more.
    const results = await Promise.allSettled(
      Array.from({ length: LIMIT }, () => create(first, firstService)),
    );
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as CodedError] : []));
    expect(made).toHaveLength(SUBACCOUNT_LIMIT);
    expect(refused).toHaveLength(LIMIT - SUBACCOUNT_LIMIT);
    expect(refused[0]).toMatchObject({
      code: SessionErrorCodes.LIVE_SESSIONS_LIMIT,
      message: subaccountFull,
    });

    // The rest of the account's bound is its sibling's (or the main account's) to take.
    await expect(create(second, secondService)).resolves.toMatchObject({ status: 'open' });
    // The account is full now: refused by the account's bound, the sibling's share left untouched.
    await expect(create(second, secondService)).rejects.toMatchObject({ message: accountFull });
    await expect(create(main, mainService)).rejects.toMatchObject({ message: accountFull });
    expect((await subaccountCounters.read(second.subaccountId!)).n).toBe(1);

    // An end gives back to both counts: the sibling takes its second, and then its share is full.
    await close(first, firstService, made[0].sid);
    expect((await subaccountCounters.read(first.subaccountId!)).n).toBe(1);
    await expect(create(second, secondService)).resolves.toMatchObject({ status: 'open' });
    await close(first, firstService, made[1].sid);
    await expect(create(second, secondService)).rejects.toMatchObject({ message: subaccountFull });
    await expect(create(main, mainService)).resolves.toMatchObject({ status: 'open' });

    // A subaccount's count a crash left wrong is recounted from the store like its account's.
    await subaccountCounters.add(first.subaccountId!, 2);
    await expect(create(first, firstService)).rejects.toMatchObject({ message: subaccountFull });
    await app.get(LiveSessionRecount).runNow();
    expect((await subaccountCounters.read(first.subaccountId!)).n).toBe(0);
    expect((await subaccountCounters.read(second.subaccountId!)).n).toBe(SUBACCOUNT_LIMIT);
    expect((await counters.read(main.accountId)).n).toBe(LIMIT);
  });
});
