import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  CodedError,
  ErrorCodes,
  ExpireSession,
  GetSession,
  HISTORY_READ_ANSWER_MS,
  ListSessions,
  type RpcParsedRequestOf,
} from '@maskline/contracts';
import { admitHistoryRead, admitHistoryScan, msLeftOfRequest } from '@maskline/observability';
import { ServiceKitModule } from '@maskline/service-kit';
import {
  expectEventually,
  startServiceApp,
  startTestNats,
  testServiceConfig,
  type RunningProcess,
} from '@maskline/testing';
import { connect, type NatsConnection } from 'nats';
import { decodeJson, encodeJson } from './json-codec';
import { outgoingHeaders } from './nats-headers';
import { RpcClient } from './rpc-client';
import { RpcHandler } from './rpc-handler.decorator';

/** History reads wait at this gate until the test opens it; each then answers "not found". */
let gate: { opened: Promise<void>; open: () => void };
const newGate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  gate = { opened, open };
};
/** What each history read saw: its account, and how long it had left when it began. */
const started: Array<{ accountId: string; msLeft: number | undefined }> = [];
/** The accounts of the lookups under way (GetSession), apart from the scans (`started`). */
const looked: string[] = [];
/** How long a request that does not read history had left (none: undefined). */
const hotPathLeft: Array<number | undefined> = [];

@Injectable()
class HistoryAnswerer {
  /** A scan of the account's history. */
  @RpcHandler(ListSessions)
  async list(request: RpcParsedRequestOf<typeof ListSessions>): Promise<never> {
    started.push({ accountId: request.scope.accountId, msLeft: msLeftOfRequest() });
    await gate.opened;
    throw new CodedError(ErrorCodes.NOT_FOUND, 'nothing to list');
  }

  /** A lookup of one session's records; of one whose id starts so, a read that spans much of the history. */
  @RpcHandler(GetSession)
  async get(request: RpcParsedRequestOf<typeof GetSession>): Promise<never> {
    if (request.sessionId.startsWith(READS_HISTORY)) await admitHistoryScan();
    looked.push(request.scope.accountId);
    await gate.opened;
    throw new CodedError(ErrorCodes.NOT_FOUND, 'no such session');
  }

  @RpcHandler(ExpireSession)
  async expire(request: RpcParsedRequestOf<typeof ExpireSession>) {
    hotPathLeft.push(msLeftOfRequest());
    // A request of a contract not marked as reading history that reads it all the same (as a
    // repository of a collection that grows with history does): admitted at that read.
    if (request.sessionId.startsWith(READS_HISTORY)) {
      await admitHistoryRead();
      started.push({ accountId: request.scope.accountId, msLeft: msLeftOfRequest() });
      await gate.opened;
    }
    return { expired: true as const };
  }
}

const PER_ACCOUNT = 2;
/** An ExpireSession for a session id starting so reads history in its handler. */
const READS_HISTORY = '00000000';
const IN_FLIGHT = 3;
/** Lookups of one session: more allowed at once than scans, counted apart. */
const LOOKUPS_PER_ACCOUNT = 3;
const LOOKUPS_IN_FLIGHT = 3;

describe('reads of history admitted per account and in all, across replicas (real NATS KV)', () => {
  let nats: RunningProcess;
  const apps: INestApplicationContext[] = [];
  let client: RpcClient;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    const config = testServiceConfig(nats.url, {
      HISTORY_READS_PER_ACCOUNT: PER_ACCOUNT,
      HISTORY_READS_IN_FLIGHT: IN_FLIGHT,
      HISTORY_LOOKUPS_PER_ACCOUNT: LOOKUPS_PER_ACCOUNT,
      HISTORY_LOOKUPS_IN_FLIGHT: LOOKUPS_IN_FLIGHT,
      RPC_TIMEOUT_MS: 5000,
    });
    for (let replica = 0; replica < 2; replica++) {
      @Module({
        imports: [ServiceKitModule.forRoot({ service: 'session-service', config })],
        providers: [HistoryAnswerer],
      })
      class SessionReplica {}
      apps.push(await startServiceApp({ module: SessionReplica }));
    }
    @Module({ imports: [ServiceKitModule.forRoot({ service: 'gateway', config })] })
    class Gateway {}
    const gateway = await startServiceApp({ module: Gateway });
    apps.push(gateway);
    client = gateway.get(RpcClient);
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    gate?.open();
    await nc?.close();
    for (const app of apps.reverse()) await app.close();
    await nats?.stop();
  });

  const account = () => `MA${randomUUID().replace(/-/g, '').slice(0, 18).toUpperCase()}`;
  const outcome = (request: Promise<unknown>) =>
    request.then(
      () => 'answered',
      (err: CodedError) => err.code,
    );
  /** A list of the account's sessions: a scan. */
  const list = (accountId: string, subaccountId?: string) =>
    client.request(ListSessions, {
      scope: { accountId, subaccountId },
      status: 'all',
      createdTime: {},
      expiryTime: {},
      durationSeconds: {},
      limit: 20,
      offset: 0,
    });
  /** A list's outcome. */
  const get = (accountId: string, subaccountId?: string) => outcome(list(accountId, subaccountId));
  /** A get of one session: a lookup. */
  const lookUp = (accountId: string) =>
    client.request(GetSession, { scope: { accountId }, sessionId: randomUUID() }).then(
      () => 'answered',
      (err: CodedError) => ({ code: err.code, message: err.message }),
    );

  it('runs an account’s reads up to its limit, refuses the rest at once with 429’s code, and serves other accounts', async () => {
    newGate();
    started.length = 0;
    const tenant = account();
    // Its subaccounts count as the account: they share its slots.
    const own = [get(tenant), get(tenant, 'SA' + tenant.slice(2)), get(tenant), get(tenant)];
    await expectEventually(() => expect(started).toHaveLength(PER_ACCOUNT));
    const other = account();
    const others = get(other);
    await expectEventually(() => expect(started).toHaveLength(IN_FLIGHT));
    // The system is full: a third account is told to retry, with the system's code, not its own.
    const third = account();
    const refused = await get(third);
    gate.open();
    const outcomes = await Promise.all(own);
    expect(outcomes.filter((o) => o === ErrorCodes.NOT_FOUND)).toHaveLength(PER_ACCOUNT);
    expect(outcomes.filter((o) => o === ErrorCodes.HISTORY_READS_LIMITED)).toHaveLength(
      own.length - PER_ACCOUNT,
    );
    expect(await others).toBe(ErrorCodes.NOT_FOUND);
    expect(refused).toBe(ErrorCodes.HISTORY_READS_BUSY);
    expect(started.map((s) => s.accountId).sort()).toEqual([tenant, tenant, other].sort());
    // Slots come back as reads end, answered or failed.
    newGate();
    gate.open();
    expect(await Promise.all([get(tenant), get(tenant), get(third)])).toEqual([
      ErrorCodes.NOT_FOUND,
      ErrorCodes.NOT_FOUND,
      ErrorCodes.NOT_FOUND,
    ]);
  });

  it('lets one subaccount hold half of its main account’s reads at most, so the main account and its siblings keep the rest', async () => {
    newGate();
    started.length = 0;
    const tenant = account();
    const reseller = (n: number) => `SA${tenant.slice(2, 19)}${n}`;
    // PER_ACCOUNT is 2: the subaccount's share is 1. Whichever of its two lists comes second is
    // refused at once; the first waits at the gate.
    const customer = [get(tenant, reseller(1)), get(tenant, reseller(1))];
    await expectEventually(() => expect(started).toHaveLength(1));
    expect(await Promise.race(customer)).toBe(ErrorCodes.HISTORY_READS_LIMITED);
    // Its sibling, and its main account, still have the account's other slot.
    const sibling = get(tenant, reseller(2));
    await expectEventually(() => expect(started).toHaveLength(2));
    expect(await get(tenant)).toBe(ErrorCodes.HISTORY_READS_LIMITED);
    gate.open();
    expect((await Promise.all(customer)).sort()).toEqual(
      [ErrorCodes.NOT_FOUND, ErrorCodes.HISTORY_READS_LIMITED].sort(),
    );
    expect(await sibling).toBe(ErrorCodes.NOT_FOUND);
  });

  it('names whose share a refused subaccount went past', async () => {
    newGate();
    const tenant = account();
    const sub = `SA${tenant.slice(2)}`;
    const held = list(tenant, sub);
    await expectEventually(() => expect(started.map((s) => s.accountId)).toContain(tenant));
    await expect(list(tenant, sub)).rejects.toMatchObject({
      code: ErrorCodes.HISTORY_READS_LIMITED,
      message: expect.stringContaining('this subaccount may have 1 in flight'),
    });
    gate.open();
    await held.catch(() => undefined);
  });

  it('never opens the caller’s circuit breaker to the service by refusing reads (its hot paths go on)', async () => {
    newGate();
    started.length = 0;
    const tenant = account();
    const held = [get(tenant), get(tenant)];
    await expectEventually(() => expect(started).toHaveLength(PER_ACCOUNT));
    const refusals = await Promise.all(Array.from({ length: 30 }, () => get(tenant)));
    expect(new Set(refusals)).toEqual(new Set([ErrorCodes.HISTORY_READS_LIMITED]));
    await expect(
      client.request(ExpireSession, { scope: { accountId: tenant }, sessionId: randomUUID() }),
    ).resolves.toEqual({ expired: true });
    gate.open();
    await Promise.all(held);
  });

  it('admits a request that reads history though its contract does not say so, at that read, under the same limits', async () => {
    newGate();
    started.length = 0;
    const tenant = account();
    const expire = (sessionId: string) =>
      client.request(ExpireSession, { scope: { accountId: tenant }, sessionId }).then(
        () => 'answered',
        (err: CodedError) => err.code,
      );
    const lazily = expire(`${READS_HISTORY}-0000-4000-8000-000000000000`);
    const marked = get(tenant);
    await expectEventually(() => expect(started).toHaveLength(PER_ACCOUNT));
    // The account's slots are both held, one by the request admitted at its read.
    expect(await get(tenant)).toBe(ErrorCodes.HISTORY_READS_LIMITED);
    expect(await expire(`${READS_HISTORY}-1111-4000-8000-000000000000`)).toBe(
      ErrorCodes.HISTORY_READS_LIMITED,
    );
    // A request that reads no history is never asked to wait for a slot.
    expect(await expire(randomUUID())).toBe('answered');
    // Nor is one a service makes of another (a callback's target): the system's work, not the tenant's.
    // It reads history with the account's slots all taken, and is not refused.
    const fromService = nc.request(
      ExpireSession.subject,
      encodeJson({ scope: { accountId: tenant }, sessionId: `${READS_HISTORY}-2222-4000-8000-000000000000` }),
      { timeout: 5000, headers: outgoingHeaders('callback-dispatcher') },
    );
    await expectEventually(() => expect(started).toHaveLength(PER_ACCOUNT + 1));
    gate.open();
    expect(await Promise.all([lazily, marked])).toEqual(['answered', ErrorCodes.NOT_FOUND]);
    expect(decodeJson((await fromService).data)).toEqual({ ok: true, data: { expired: true } });
    // Given back at the end of each request.
    expect(await Promise.all([get(tenant), get(tenant)])).toEqual([
      ErrorCodes.NOT_FOUND,
      ErrorCodes.NOT_FOUND,
    ]);
  });

  it('counts reads of one session apart from scans, with their own limits, named in the refusal', async () => {
    newGate();
    started.length = 0;
    looked.length = 0;
    const tenant = account();
    // The account's scans hold all its scan slots …
    const scans = [get(tenant), get(tenant)];
    await expectEventually(() => expect(started).toHaveLength(PER_ACCOUNT));
    // … and its gets of single sessions still run, up to their own limit.
    const lookups = Array.from({ length: LOOKUPS_PER_ACCOUNT }, () => lookUp(tenant));
    await expectEventually(() => expect(looked).toHaveLength(LOOKUPS_PER_ACCOUNT));
    const past = await lookUp(tenant);
    expect(past).toEqual({
      code: ErrorCodes.HISTORY_READS_LIMITED,
      message: expect.stringContaining('HISTORY_LOOKUPS_PER_ACCOUNT'),
    });
    // The system's lookups are all held (by one account here): another account's get is told to retry.
    expect(await lookUp(account())).toEqual({
      code: ErrorCodes.HISTORY_READS_BUSY,
      message: expect.stringContaining('HISTORY_LOOKUPS_IN_FLIGHT'),
    });
    // Its scans are still held to theirs.
    expect(await get(tenant)).toBe(ErrorCodes.HISTORY_READS_LIMITED);
    gate.open();
    expect(await Promise.all(scans)).toEqual([ErrorCodes.NOT_FOUND, ErrorCodes.NOT_FOUND]);
    expect((await Promise.all(lookups)).map((l) => (l as { code: string }).code)).toEqual(
      Array(LOOKUPS_PER_ACCOUNT).fill(ErrorCodes.NOT_FOUND),
    );
  });

  it('admits a lookup whose read spans much of the history as a scan as well: under the scans’ limit too', async () => {
    newGate();
    started.length = 0;
    looked.length = 0;
    const tenant = account();
    const wide = () =>
      client
        .request(GetSession, {
          scope: { accountId: tenant },
          sessionId: `${READS_HISTORY}-3333-4000-8000-000000000000`,
        })
        .then(
          () => 'answered',
          (err: CodedError) => err.code,
        );
    // One wide lookup holds a scan slot beside its lookup slot; with one list, the account's two are taken.
    const first = wide();
    await expectEventually(() => expect(looked).toHaveLength(1));
    const list = get(tenant);
    await expectEventually(() => expect(started).toHaveLength(1));
    expect(await wide()).toBe(ErrorCodes.HISTORY_READS_LIMITED);
    expect(await get(tenant)).toBe(ErrorCodes.HISTORY_READS_LIMITED);
    // A lookup that reads its own few days still goes ahead.
    const narrow = lookUp(tenant);
    await expectEventually(() => expect(looked).toHaveLength(2));
    gate.open();
    expect(await Promise.all([first, list])).toEqual([ErrorCodes.NOT_FOUND, ErrorCodes.NOT_FOUND]);
    expect(await narrow).toEqual({ code: ErrorCodes.NOT_FOUND, message: 'no such session' });
    // Both kinds' slots came back: the account's scans run again.
    newGate();
    gate.open();
    expect(await Promise.all([get(tenant), get(tenant)])).toEqual([
      ErrorCodes.NOT_FOUND,
      ErrorCodes.NOT_FOUND,
    ]);
  });

  it('gives a read of history a deadline a second short of its caller’s, and a hot-path request none', async () => {
    newGate();
    gate.open();
    started.length = 0;
    hotPathLeft.length = 0;
    await get(account());
    await client.request(ExpireSession, { scope: { accountId: account() }, sessionId: randomUUID() });
    expect(started[0].msLeft).toBeLessThanOrEqual(HISTORY_READ_ANSWER_MS);
    expect(started[0].msLeft).toBeGreaterThan(HISTORY_READ_ANSWER_MS - 2_000);
    expect(hotPathLeft).toEqual([undefined]);
  });
});
