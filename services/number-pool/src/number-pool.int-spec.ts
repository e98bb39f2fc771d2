import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import {
  AddAllocationParty,
  AllocateVirtualNumber,
  AddVirtualNumbers,
  AllocateNumber,
  AssignProxyNumber,
  DeleteVirtualNumber,
  EVENT_EXTENSION_HEADER,
  ErrorCodes,
  GetNumberRouting,
  GetPoolUtilization,
  GetVirtualNumber,
  ListVirtualNumbers,
  PROVIDER_ASK_TIMEOUT_MS,
  PoolErrorCodes,
  ProxyErrorCodes,
  ReleaseAllocation,
  ReleaseSessionNumber,
  UpdateVirtualNumber,
  VirtualNumberChanged,
  eventFromWire,
  type AccountScope,
} from '@maskline/contracts';
import {
  TestNatsClient,
  expectEventually,
  startServiceApp,
  testClock,
  startTestNats,
  testKeyring,
  testServiceConfig,
  testStoreUrl,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { KeyValueStores } from '@maskline/messaging';
import { startProviderSandbox, type ProviderSandbox } from '../../../deploy/local/provider-sandbox.cjs';
import { numberPoolConfigSchema } from './config/number-pool.config';
import type { HoldStore } from './allocation/hold-store.port';
import { HOLD_STORE } from './allocation/hold-store.token';
import { HoldMaintenance } from './allocation/hold-maintenance';
import { HoldRepository } from './allocation/hold.repository';
import { AllocationRepository } from './allocation/allocation.repository';
import { ALLOCATIONS_BUCKET, PAIR_HINTS_BUCKET, pairKey } from './allocation/mongo-hold-store';
import { InventoryService } from './inventory/inventory.service';
import { ProxyNumberClaimRepository } from './inventory/proxy-number-claim.repository';
import { VirtualNumberRepository } from './inventory/virtual-number.repository';
import { ProviderHoldingSweep } from './inventory/provider-holding-sweep';
import { NumberPoolModule } from './number-pool.module';

const ACCOUNT: AccountScope = { accountId: 'MAAAAAAAAAAAAAAAAAA1' };
const OTHER: AccountScope = { accountId: 'MABBBBBBBBBBBBBBBBB2' };
const US = ['+14155550101', '+14155550102', '+14155550103'];
const GB = '+442071838750';
/** The most numbers an account may hold in this suite (the largest pool a test adds is 24). */
const INVENTORY_MAX = 30;
const NEXT_SERVICE = `KS${'d'.repeat(32)}`;
/** How long a deleted number stays out of other accounts' reach in this suite. */
const QUARANTINE_MS = 60_000;
const rider = (i: number) => `+1415556${String(1000 + i).padStart(4, '0')}`;

describe('number-pool (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let db: Connection;
  /** The providers' REST APIs: every account holds every number but those it disowns. */
  let providers: ProviderSandbox;
  const config = () =>
    numberPoolConfigSchema.parse({
      ...testServiceConfig(nats.url, { LOG_LEVEL: (process.env.DEBUG_LOG_LEVEL as 'error') ?? 'silent' }),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: dbName,
      PROVIDER_CREDENTIAL_KEYS: keys,
      NUMBERS_PER_ACCOUNT_MAX: INVENTORY_MAX,
      NUMBER_QUARANTINE_MS: QUARANTINE_MS,
      PLIVO_API_BASE_URL: providers.url,
      TWILIO_API_BASE_URL: providers.url,
    });
  const dbName = uniqueDbName('pool');
  const clock = testClock();
  const keys = testKeyring();

  beforeAll(async () => {
    nats = await startTestNats();
    providers = await startProviderSandbox();
    app = await startServiceApp(NumberPoolModule.forRoot(config()), { clock: clock.now });
    client = await TestNatsClient.connect(nats.url);
    db = app.get<Connection>(getConnectionToken());
    await client.request(AddVirtualNumbers, {
      scope: ACCOUNT,
      numbers: [...US.map((n) => n.slice(1)), GB],
      provider: 'plivo',
      credentials: { accountId: 'MAPLIVOAUTHID0000001', authToken: 'plivo-secret-token-value' },
    });
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
    await providers?.close();
  });

  /** A new allocation of these parties (geomatched, no cool-off), as session-service asks for one. */
  const allocationRequest = (parties: string[]) => ({
    scope: ACCOUNT,
    allocationId: randomUUID(),
    parties,
    geomatch: true,
    cooloffSeconds: 0,
    excludeNumbers: [] as string[],
  });

  /** A live, unreleased hold written straight into the store, as a claim the allocator made. */
  const insertLiveHold = (allocationId: string, virtualNumber: string, party: string) =>
    db.collection('holds').insertOne({
      _id: randomUUID() as never,
      accountId: ACCOUNT.accountId,
      allocationId,
      sessionId: allocationId,
      virtualNumber,
      party,
      liveMarker: 'L',
      cooloffSeconds: 0,
      createdAt: new Date(),
      releasedAt: null,
      blockedUntil: null,
      retiredAt: null,
    });

  const allocate = (
    parties: string[],
    extra: Partial<{ cooloffSeconds: number; geomatch: boolean; excludeNumbers: string[] }> = {},
    scope = ACCOUNT,
  ) =>
    client.request(AllocateNumber, {
      scope,
      allocationId: randomUUID(),
      parties,
      geomatch: extra.geomatch ?? true,
      cooloffSeconds: extra.cooloffSeconds ?? 0,
      excludeNumbers: extra.excludeNumbers ?? [],
    });

  describe('inventory', () => {
    it('gives no credentials for a number whose stored provider account id no provider issues (stored before the rule)', async () => {
      const [kept, stale] = ['+14155550871', '+14155550872'];
      await client.request(AddVirtualNumbers, {
        scope: { accountId: 'MAFFFFFFFFFFFFFFFFF7' },
        numbers: [kept, stale],
        provider: 'twilio',
        credentials: { accountId: `AC${'0'.repeat(32)}`, authToken: 'twilio-secret-token-value' },
      });
      // As an earlier release took it: an id that is a dot segment of the provider's URL.
      await db
        .collection('virtual_numbers')
        .updateOne({ _id: stale as never }, { $set: { 'credentials.accountId': '..' } });
      expect((await client.request(GetNumberRouting, { number: kept })).credentials).toEqual({
        accountId: `AC${'0'.repeat(32)}`,
        authToken: 'twilio-secret-token-value',
      });
      expect((await client.request(GetNumberRouting, { number: stale })).credentials).toBeNull();
    });

    it('stores numbers as E.164 with their country, and never the provider token in clear', async () => {
      const n = await client.request(GetVirtualNumber, { scope: ACCOUNT, number: GB });
      expect(n).toMatchObject({ number: GB, country: 'GB', provider: 'plivo', hasProviderCredentials: true });
      const raw = await db.collection('virtual_numbers').find({}).toArray();
      expect(JSON.stringify(raw)).not.toContain('plivo-secret-token-value');
    });

    it('rejects an invalid number and writes none of the batch', async () => {
      await expect(
        client.request(AddVirtualNumbers, {
          scope: ACCOUNT,
          numbers: ['+14155550199', '12345'],
          provider: 'plivo',
        }),
      ).rejects.toMatchObject({ code: ErrorCodes.VALIDATION, field: 'numbers' });
      await expect(
        client.request(GetVirtualNumber, { scope: ACCOUNT, number: '+14155550199' }),
      ).rejects.toMatchObject({
        code: ErrorCodes.NOT_FOUND,
      });
    });

    it('keeps accounts apart: another account can neither see nor take a number', async () => {
      await expect(client.request(GetVirtualNumber, { scope: OTHER, number: US[0] })).rejects.toMatchObject({
        code: ErrorCodes.NOT_FOUND,
      });
      await expect(
        client.request(AddVirtualNumbers, { scope: OTHER, numbers: [US[0]], provider: 'twilio' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_TAKEN });
      expect((await client.request(ListVirtualNumbers, { scope: OTHER, limit: 20, offset: 0 })).total).toBe(
        0,
      );
    });

    it('gives a number its owner deleted, after the quarantine and once no session of its holds it, to another account that adds it, afresh', async () => {
      const owner: AccountScope = { accountId: 'MACCCCCCCCCCCCCCCCC8' };
      const next: AccountScope = { accountId: 'MADDDDDDDDDDDDDDDDD9' };
      const number = '+14155550881';
      await client.request(AddVirtualNumbers, {
        scope: owner,
        numbers: [number],
        provider: 'plivo',
        credentials: { accountId: 'MAPLIVOAUTHID0000008', authToken: 'owner-token-value' },
        fallbackMessage: 'owner fallback',
      });
      await client.request(UpdateVirtualNumber, { scope: owner, number, alias: 'owner alias' });
      // In use by the owner's session: not another's, even once deleted, while the session lives.
      const session = { ...allocationRequest([rider(400), rider(401)]), scope: owner };
      expect((await client.request(AllocateNumber, session)).virtualNumber).toBe(number);
      await client.request(DeleteVirtualNumber, { scope: owner, number });
      await expect(
        client.request(AddVirtualNumbers, { scope: next, numbers: [number], provider: 'twilio' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_TAKEN });
      await db.collection('proxy_number_claims').insertOne({
        _id: number as never,
        accountId: owner.accountId,
        serviceSid: `KS${'c'.repeat(32)}`,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      // The session over, the number is still out of reach until the quarantine has passed.
      await client.request(ReleaseAllocation, { scope: owner, allocationId: session.allocationId });
      await expect(
        client.request(AddVirtualNumbers, { scope: next, numbers: [number], provider: 'twilio' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_TAKEN });
      clock.advance(QUARANTINE_MS);
      // Then it is the next account's, with nothing of the owner's.
      const {
        added: [taken],
      } = await client.request(AddVirtualNumbers, {
        scope: next,
        numbers: [number],
        provider: 'twilio',
      });
      expect(taken).toMatchObject({ number, provider: 'twilio', hasProviderCredentials: false, alias: null });
      expect(taken.fallbackMessage ?? null).toBeNull();
      expect((await client.request(GetNumberRouting, { number })).accountId).toBe(next.accountId);
      await expect(client.request(GetVirtualNumber, { scope: owner, number })).rejects.toMatchObject({
        code: ErrorCodes.NOT_FOUND,
      });
      // A Service claim the first account left on it (an assignment racing its delete) is not the
      // next account's to wait on: its own Service takes the number.
      await client.request(AssignProxyNumber, { scope: next, serviceSid: NEXT_SERVICE, number });
      // Active, it is the next account's to keep: the first owner cannot take it back.
      await expect(
        client.request(AddVirtualNumbers, { scope: owner, numbers: [number], provider: 'plivo' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_TAKEN });
    });

    it('holds at most NUMBERS_PER_ACCOUNT_MAX numbers per account, its subaccounts’ included', async () => {
      const scope: AccountScope = { accountId: 'MAGGGGGGGGGGGGGGGG10' };
      const numbers = Array.from({ length: INVENTORY_MAX }, (_, i) => `+1415558${String(1000 + i)}`);
      await client.request(AddVirtualNumbers, { scope, numbers: numbers.slice(0, 20), provider: 'plivo' });
      await client.request(AddVirtualNumbers, {
        scope: { ...scope, subaccountId: 'SAGGGGGGGGGGGGGGGG11' },
        numbers: numbers.slice(20),
        provider: 'plivo',
      });
      const one = '+14155589999';
      await expect(
        client.request(AddVirtualNumbers, { scope, numbers: [one], provider: 'plivo' }),
      ).rejects.toMatchObject({
        code: PoolErrorCodes.INVENTORY_FULL,
        field: 'numbers',
        message: expect.stringContaining(`at most ${INVENTORY_MAX} numbers`),
      });
      // Adding one it holds again is no more.
      await client.request(AddVirtualNumbers, { scope, numbers: [numbers[0]], provider: 'twilio' });
      // A deleted one counts while it is out of others' reach (so deleting and adding anew cannot
      // hold more), and adding it again then is no more either.
      await client.request(DeleteVirtualNumber, { scope, number: numbers[1] });
      await expect(
        client.request(AddVirtualNumbers, { scope, numbers: [one], provider: 'plivo' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.INVENTORY_FULL });
      await client.request(AddVirtualNumbers, { scope, numbers: [numbers[1]], provider: 'plivo' });
      // Past its quarantine, a deleted one makes room.
      await client.request(DeleteVirtualNumber, { scope, number: numbers[1] });
      clock.advance(QUARANTINE_MS);
      await client.request(AddVirtualNumbers, { scope, numbers: [one], provider: 'plivo' });
      await expect(
        client.request(AddVirtualNumbers, { scope, numbers: [numbers[1]], provider: 'plivo' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.INVENTORY_FULL });
    });

    it('holds one subaccount’s adds to its share of its main account’s room: its main account and siblings still add', async () => {
      const scope: AccountScope = { accountId: 'MAGGGGGGGGGGGGGGGG20' };
      const [sub, sibling] = [
        { ...scope, subaccountId: 'SAGGGGGGGGGGGGGGGG21' },
        { ...scope, subaccountId: 'SAGGGGGGGGGGGGGGGG22' },
      ];
      const share = INVENTORY_MAX / 2;
      const numbers = Array.from({ length: share + 3 }, (_, i) => `+1415557${String(1000 + i)}`);
      await client.request(AddVirtualNumbers, {
        scope: sub,
        numbers: numbers.slice(0, share),
        provider: 'plivo',
      });
      await expect(
        client.request(AddVirtualNumbers, { scope: sub, numbers: [numbers[share]], provider: 'plivo' }),
      ).rejects.toMatchObject({
        code: PoolErrorCodes.INVENTORY_FULL,
        field: 'numbers',
        message: expect.stringContaining(`a subaccount adds at most ${share} numbers`),
      });
      // Deleting one frees no room until its quarantine ends (delete and add anew holds no more).
      await client.request(DeleteVirtualNumber, { scope: sub, number: numbers[0] });
      await expect(
        client.request(AddVirtualNumbers, { scope: sub, numbers: [numbers[share]], provider: 'plivo' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.INVENTORY_FULL });
      await expect(
        client.request(AddVirtualNumbers, {
          scope: sibling,
          numbers: [numbers[share + 1]],
          provider: 'plivo',
        }),
      ).resolves.toBeDefined();
      await expect(
        client.request(AddVirtualNumbers, { scope, numbers: [numbers[share + 2]], provider: 'plivo' }),
      ).resolves.toBeDefined();
      // Its main account adding for it chooses what it gives it: not held to the share.
      await expect(
        client.request(AddVirtualNumbers, {
          scope: sub,
          byMainAccount: true,
          numbers: [numbers[share]],
          provider: 'plivo',
        }),
      ).resolves.toMatchObject({ added: [expect.objectContaining({ subaccountId: sub.subaccountId })] });
    });

    it('lists with filters and pagination', async () => {
      const page = await client.request(ListVirtualNumbers, {
        scope: ACCOUNT,
        limit: 2,
        offset: 0,
        country: 'US',
      });
      expect(page.total).toBe(3);
      expect(page.objects.map((o) => o.number)).toEqual(US.slice(0, 2));
      const gb = await client.request(ListVirtualNumbers, {
        scope: ACCOUNT,
        limit: 20,
        offset: 0,
        numberStartsWith: '44',
      });
      expect(gb.objects.map((o) => o.number)).toEqual([GB]);
    });
  });

  describe('whether the provider account holds the number', () => {
    const plivoCredentials = { accountId: 'MAHOLDINGCHECK000001', authToken: 'holding-check-token' };
    const twilioCredentials = { accountId: `AC${'e'.repeat(32)}`, authToken: 'holding-check-token' };
    const scope: AccountScope = { accountId: 'MAHHHHHHHHHHHHHHHHH1' };
    const routing = (number: string) => client.request(GetNumberRouting, { number });
    const absent = (number: string) =>
      expect(client.request(GetVirtualNumber, { scope, number })).rejects.toMatchObject({
        code: ErrorCodes.NOT_FOUND,
      });

    it('asks each provider about every number added with credentials, and routes them as confirmed', async () => {
      const [plivo, twilio] = ['+14155550901', '+14155550902'];
      const asked = providers.lookups.length;
      await client.request(AddVirtualNumbers, {
        scope,
        numbers: [plivo],
        provider: 'plivo',
        credentials: plivoCredentials,
      });
      await client.request(AddVirtualNumbers, {
        scope,
        numbers: [twilio],
        provider: 'twilio',
        credentials: twilioCredentials,
      });
      expect(providers.lookups.slice(asked).map((l) => [l.provider, l.account, l.number])).toEqual([
        ['plivo', plivoCredentials.accountId, plivo],
        ['twilio', twilioCredentials.accountId, twilio],
      ]);
      expect((await routing(plivo)).heldConfirmed).toBe(true);
      expect((await routing(twilio)).heldConfirmed).toBe(true);
    });

    it('refuses a batch with a number the account does not hold, adding none of it, and says so before telling whether another account has it', async () => {
      const [mine, persons] = ['+14155550903', '+14155550904'];
      providers.disown(persons);
      for (const provider of ['plivo', 'twilio'] as const) {
        await expect(
          client.request(AddVirtualNumbers, {
            scope,
            numbers: [mine, persons],
            provider,
            credentials: provider === 'plivo' ? plivoCredentials : twilioCredentials,
          }),
        ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_NOT_HELD, field: 'numbers' });
      }
      await absent(mine);
      await absent(persons);
      // Another account's number (US[0]): "not held" still, never "taken" (which would tell it is).
      providers.disown(US[0]);
      await expect(
        client.request(AddVirtualNumbers, {
          scope,
          numbers: [US[0]],
          provider: 'plivo',
          credentials: plivoCredentials,
        }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_NOT_HELD });
    });

    it('refuses credentials the provider refuses, and writes nothing', async () => {
      const number = '+14155550905';
      const wrong = { accountId: 'MAWRONGCREDENTIALS01', authToken: 'wrong-token-value' };
      providers.refuseCredentials(wrong.accountId);
      await expect(
        client.request(AddVirtualNumbers, {
          scope,
          numbers: [number],
          provider: 'plivo',
          credentials: wrong,
        }),
      ).rejects.toMatchObject({
        code: PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED,
        field: 'provider_auth_token',
      });
      await absent(number);
    });

    it('answers "provider unavailable" within its budget when the provider does not answer, and writes nothing', async () => {
      const number = '+14155550906';
      const hung = { accountId: 'MAHUNGPROVIDER000001', authToken: 'hung-token-value' };
      providers.hangAccount(hung.accountId);
      try {
        await expect(
          client.request(
            AddVirtualNumbers,
            { scope, numbers: [number], provider: 'plivo', credentials: hung },
            PROVIDER_ASK_TIMEOUT_MS,
          ),
        ).rejects.toMatchObject({ code: PoolErrorCodes.PROVIDER_UNAVAILABLE, retryable: true });
      } finally {
        providers.answerAgain(hung.accountId);
      }
      await absent(number);
    });

    it('routes a number added without credentials as unconfirmed, and asks nobody', async () => {
      const number = '+14155550907';
      const asked = providers.lookups.length;
      await client.request(AddVirtualNumbers, { scope, numbers: [number], provider: 'plivo' });
      expect(providers.lookups.length).toBe(asked);
      expect((await routing(number)).heldConfirmed).toBe(false);
    });

    it('asks again when credentials change, keeping the old ones and what was said of them when the provider says no', async () => {
      const number = '+14155550908';
      await client.request(AddVirtualNumbers, {
        scope,
        numbers: [number],
        provider: 'plivo',
        credentials: plivoCredentials,
      });
      const other = { accountId: 'MAANOTHERACCOUNT0001', authToken: 'another-token-value' };
      providers.refuseCredentials(other.accountId);
      await expect(
        client.request(UpdateVirtualNumber, { scope, number, credentials: other }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED });
      expect(await routing(number)).toMatchObject({ credentials: plivoCredentials, heldConfirmed: true });
      // Moved to another provider with the same credentials: that provider is asked, with them.
      const asked = providers.lookups.length;
      await client.request(UpdateVirtualNumber, { scope, number, provider: 'twilio' });
      expect(providers.lookups.slice(asked).map((l) => [l.provider, l.account])).toEqual([
        ['twilio', plivoCredentials.accountId],
      ]);
      // Re-added without credentials for the same provider: what was said stands, nobody asked.
      await client.request(AddVirtualNumbers, { scope, numbers: [number], provider: 'twilio' });
      expect(providers.lookups.length).toBe(asked + 1);
      expect((await routing(number)).heldConfirmed).toBe(true);
    });

    it('takes a number stored before the question was asked (or by an older release) for unconfirmed until the sweep asks its provider; asks again once the word is old', async () => {
      const [legacy, gone] = ['+14155550909', '+14155550910'];
      await client.request(AddVirtualNumbers, {
        scope,
        numbers: [legacy, gone],
        provider: 'twilio',
        credentials: twilioCredentials,
      });
      await db
        .collection('virtual_numbers')
        .updateMany({ _id: { $in: [legacy, gone] as never[] } }, { $unset: { providerHolding: '' } });
      expect((await routing(legacy)).heldConfirmed).toBe(false);
      const sweep = app.get(ProviderHoldingSweep);
      const asked = providers.lookups.length;
      // Every router and gateway is told, so that none keeps its cached word.
      const changed: string[] = [];
      const sub = client.nc.subscribe(VirtualNumberChanged.subject, {
        callback: (_err, msg) => changed.push((msg.json() as { number: string }).number),
      });
      await sweep.sweep();
      expect(
        providers.lookups
          .slice(asked)
          .map((l) => l.number)
          .sort(),
      ).toEqual([legacy, gone]);
      expect((await routing(legacy)).heldConfirmed).toBe(true);
      await expectEventually(() => expect([...changed].sort()).toEqual([legacy, gone].sort()));
      sub.unsubscribe();
      // Asked about lately: not asked again.
      await sweep.sweep();
      expect(providers.lookups.length).toBe(asked + 2);
      // A day on, one has been released at the provider (a person's phone now): no longer confirmed.
      providers.disown(gone);
      clock.advance(86_400_000);
      await sweep.sweep();
      expect((await routing(legacy)).heldConfirmed).toBe(true);
      expect((await routing(gone)).heldConfirmed).toBe(false);
    });

    it('gives a number to the account its provider confirms holds it, taken from one whose provider never did (or that gave no credentials); never from a confirmed one', async () => {
      const [squatted, listed, switched, confirmedElsewhere] = [
        '+14155550912',
        '+14155550913',
        '+14155550915',
        '+14155550914',
      ];
      const squatter: AccountScope = { accountId: 'MASQUATTERACCOUNT001' };
      // Without credentials (nobody asked), and with credentials whose provider lists the number
      // only on the account's word (its own carrier): neither confirmed.
      await client.request(AddVirtualNumbers, { scope: squatter, numbers: [squatted], provider: 'plivo' });
      await client.request(AddVirtualNumbers, {
        scope: squatter,
        numbers: [listed],
        provider: 'plivo',
        credentials: { accountId: 'MASQUATTERPROVIDER01', authToken: 'squatter-token-value' },
      });
      await client.request(AddVirtualNumbers, {
        scope: squatter,
        numbers: [switched],
        provider: 'plivo',
        credentials: { accountId: 'MASQUATTERPROVIDER01', authToken: 'squatter-token-value' },
      });
      await db
        .collection('virtual_numbers')
        .updateMany(
          { _id: { $in: [listed, switched] as never[] } },
          { $set: { 'providerHolding.held': false } },
        );
      // Moved to the other provider without credentials (the provider's word is then of another
      // provider: neither confirmed nor refuted as it stands): not confirmed, so still takeable.
      await client.request(AddVirtualNumbers, { scope: squatter, numbers: [switched], provider: 'twilio' });
      expect((await routing(switched)).accountId).toBe(squatter.accountId);
      // With the longest cool-off a session may set.
      const session = {
        ...allocationRequest([rider(500), rider(501)]),
        scope: squatter,
        cooloffSeconds: 3600,
      };
      expect((await client.request(AllocateNumber, session)).virtualNumber).toBe(squatted);
      // A single-party session of the squatter's, waiting for its second party on one of them.
      const waiting = { ...allocationRequest([rider(502)]), scope: squatter };
      await client.request(AllocateNumber, waiting);
      // And one already ended, its pairs cooling off for an hour (phones the squatter wants blocked).
      const ended = { ...allocationRequest([rider(505), rider(506)]), scope: squatter, cooloffSeconds: 3600 };
      await client.request(AllocateNumber, ended);
      await client.request(ReleaseAllocation, { scope: squatter, allocationId: ended.allocationId });
      const coolingOff = { allocationId: ended.allocationId, liveMarker: 'L', blockedUntil: { $ne: null } };
      expect(await db.collection('holds').countDocuments(coolingOff)).toBe(2);
      // Its holder adds both, confirmed by its provider: they are its own, afresh, and the change is
      // announced as taken from the squatter (session-service looks at it again for late sessions).
      const taken: Array<{ number: string; takenFrom?: string }> = [];
      const announcements = client.nc.subscribe(VirtualNumberChanged.subject, {
        callback: (_err, msg) =>
          taken.push(
            eventFromWire(msg.json(), msg.headers?.get(EVENT_EXTENSION_HEADER)) as {
              number: string;
              takenFrom?: string;
            },
          ),
      });
      const { added } = await client.request(AddVirtualNumbers, {
        scope,
        numbers: [squatted, listed, switched],
        provider: 'twilio',
        credentials: twilioCredentials,
      });
      expect(added.map((n) => [n.number, n.accountId, n.hasProviderCredentials])).toEqual([
        [squatted, scope.accountId, true],
        [listed, scope.accountId, true],
        [switched, scope.accountId, true],
      ]);
      expect(await routing(squatted)).toMatchObject({ accountId: scope.accountId, heldConfirmed: true });
      await expectEventually(() =>
        expect(
          taken
            .filter((e) => e.takenFrom)
            .map((e) => [e.number, e.takenFrom])
            .sort(),
        ).toEqual([squatted, listed, switched].sort().map((n) => [n, squatter.accountId])),
      );
      announcements.unsubscribe();
      // Its ended sessions' cool-offs there are over: none of those phones is kept from the holder.
      expect(await db.collection('holds').countDocuments(coolingOff)).toBe(0);
      await expect(
        client.request(GetVirtualNumber, { scope: squatter, number: squatted }),
      ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
      // Its waiting session takes no party there now: the same answer for a phone the holder's
      // session holds on the number as for any other (no oracle), and no pair claimed.
      const holders = { ...allocationRequest([rider(503), rider(504)]), scope };
      await client.request(AllocateNumber, holders);
      for (const party of [rider(503), rider(599)]) {
        await expect(
          client.request(AddAllocationParty, { scope: squatter, allocationId: waiting.allocationId, party }),
        ).rejects.toMatchObject({
          code: ErrorCodes.NOT_FOUND,
          message: `no live allocation ${waiting.allocationId}`,
        });
      }
      expect(await db.collection('holds').countDocuments({ allocationId: waiting.allocationId })).toBe(1);
      // Its sessions there, ended (session-service ends them), free their pairs at once, whatever
      // cool-off the squatter set: none of the holder's phones stays blocked on its own number.
      await client.request(ReleaseAllocation, { scope: squatter, allocationId: session.allocationId });
      expect(
        await db.collection('holds').countDocuments({ allocationId: session.allocationId, liveMarker: 'L' }),
      ).toBe(0);
      // The squatter cannot take it back.
      await expect(
        client.request(AddVirtualNumbers, { scope: squatter, numbers: [squatted], provider: 'plivo' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_TAKEN });
      // A number another account's provider confirmed stays that account's.
      await client.request(AddVirtualNumbers, {
        scope: squatter,
        numbers: [confirmedElsewhere],
        provider: 'plivo',
        credentials: { accountId: 'MASQUATTERPROVIDER01', authToken: 'squatter-token-value' },
      });
      await expect(
        client.request(AddVirtualNumbers, {
          scope,
          numbers: [confirmedElsewhere],
          provider: 'twilio',
          credentials: twilioCredentials,
        }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_TAKEN });
    });

    it('confirms nothing for credentials other than those the provider was asked about, however they were changed', async () => {
      const number = '+14155550911';
      await client.request(AddVirtualNumbers, {
        scope,
        numbers: [number],
        provider: 'plivo',
        credentials: plivoCredentials,
      });
      expect((await routing(number)).heldConfirmed).toBe(true);
      // As an older release's update would leave it: new credentials, the provider's word of the old ones.
      await db
        .collection('virtual_numbers')
        .updateOne({ _id: number as never }, { $set: { 'credentials.accountId': 'MAOTHERACCOUNT000001' } });
      expect((await routing(number)).heldConfirmed).toBe(false);
    });
  });

  describe('allocation', () => {
    it('geomatches on the first party and packs unrelated sessions onto the same number', async () => {
      expect((await allocate([rider(1), rider(2)])).virtualNumber).toBe(US[0]);
      expect((await allocate([rider(3), rider(4)])).virtualNumber).toBe(US[0]);
      expect((await allocate(['+447400123456', rider(5)])).virtualNumber).toBe(GB);
    });

    it('still answers v1, whose sessionId carried the allocation id (a previous session-service)', async () => {
      const allocationId = randomUUID();
      const v1 = await client.request(AllocateVirtualNumber, {
        scope: ACCOUNT,
        sessionId: allocationId,
        parties: [rider(30), rider(31)],
        geomatch: true,
        cooloffSeconds: 0,
        excludeNumbers: [],
      });
      expect(await db.collection('holds').countDocuments({ allocationId })).toBe(2);
      expect(
        (await client.request(ReleaseSessionNumber, { scope: ACCOUNT, sessionId: allocationId })).released,
      ).toBe(2);
      expect(v1.virtualNumber).toMatch(/^\+/);
    });

    it('refuses a party that is one of the account’s own numbers (naming which), and when a party joins; a deleted one, or another account’s, is a party like any', async () => {
      const scope: AccountScope = { accountId: 'MAFFFFFFFFFFFFFFFFF7' };
      const [kept, gone] = ['+14155550181', '+14155550182'];
      await client.request(AddVirtualNumbers, { scope, numbers: [kept, gone], provider: 'plivo' });
      await client.request(DeleteVirtualNumber, { scope, number: gone });
      await expect(allocate([rider(70), kept], {}, scope)).rejects.toMatchObject({
        code: PoolErrorCodes.PARTY_IS_VIRTUAL_NUMBER,
        details: { partyIndex: 1 },
      });
      const single = { ...allocationRequest([rider(73)]), scope };
      expect((await client.request(AllocateNumber, single)).virtualNumber).toBe(kept);
      await expect(
        client.request(AddAllocationParty, { scope, allocationId: single.allocationId, party: kept }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.PARTY_IS_VIRTUAL_NUMBER, details: { partyIndex: 0 } });
      await expect(allocate([gone, rider(71)], {}, scope)).resolves.toMatchObject({ virtualNumber: kept });
      await expect(allocate([US[0], rider(72)], {}, scope)).resolves.toMatchObject({ virtualNumber: kept });
    });

    it('leaves nothing in NATS of a pair once its hold is retired (a purge marker per pair ever used would stay, in memory, forever)', async () => {
      const request = allocationRequest([rider(12), rider(13)]);
      const { virtualNumber } = await client.request(AllocateNumber, request);
      const kv = app.get(KeyValueStores);
      const latest = (party: string) => kv.leaderEntry(PAIR_HINTS_BUCKET, pairKey(virtualNumber, party));
      expect(await latest(rider(12))).toMatchObject({ operation: 'PUT' });
      // Released without a cool-off: its holds retire at once.
      await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId: request.allocationId });
      expect(await latest(rider(12))).toBeNull();
      expect(await latest(rider(13))).toBeNull();
    });

    it('is idempotent per allocation id', async () => {
      const request = allocationRequest([rider(10), rider(11)]);
      const a = await client.request(AllocateNumber, request);
      const b = await client.request(AllocateNumber, request);
      expect(b.virtualNumber).toBe(a.virtualNumber);
      expect(await db.collection('holds').countDocuments({ allocationId: request.allocationId })).toBe(2);
    });

    describe('a retry whose record only the store holds (lost from KV by a crash between the two writes)', () => {
      const forgetInKv = async (allocationId: string) =>
        (await client.nc.jetstream().views.kv(ALLOCATIONS_BUCKET)).purge(allocationId);

      it('answers as the first attempt did and leaves no claim or hint of its own behind', async () => {
        const request = allocationRequest([rider(150), rider(151)]);
        const first = await client.request(AllocateNumber, request);
        expect(first.virtualNumber).toBe(US[0]);
        await forgetInKv(request.allocationId);
        // The retry finds its parties on US[0] (its own first attempt), claims the next number,
        // loses the record insert to the first attempt, and gives that claim back.
        expect((await client.request(AllocateNumber, request)).virtualNumber).toBe(first.virtualNumber);
        expect(
          await db
            .collection('holds')
            .countDocuments({ allocationId: request.allocationId, liveMarker: 'L' }),
        ).toBe(2);
        // The withdrawn claim left no hint: the first party can have the next number at once.
        expect((await allocate([rider(150), rider(152)])).virtualNumber).toBe(US[1]);
      });

      it('answers as the first attempt did when every other number is taken', async () => {
        const request = allocationRequest([rider(153), rider(154)]);
        const first = await client.request(AllocateNumber, request);
        await allocate([rider(153), rider(155)]);
        await allocate([rider(153), rider(156)]);
        await forgetInKv(request.allocationId);
        expect((await client.request(AllocateNumber, request)).virtualNumber).toBe(first.virtualNumber);
        // A party that truly holds every number is still refused.
        await expect(allocate([rider(153), rider(157)])).rejects.toMatchObject({
          code: PoolErrorCodes.EXHAUSTED,
        });
      });
    });

    it('keeps the claim of an attempt whose record was written and whose KV copy failed: its retry answers that number, which no other session gets', async () => {
      const request = allocationRequest([rider(170), rider(171)]);
      const stores = app.get(KeyValueStores);
      const open = stores.bucket.bind(stores);
      // The allocations bucket refuses writes (its stream electing a leader), as after the store's insert.
      const refusing = jest.spyOn(stores, 'bucket').mockImplementation(async (name, options) => {
        const kv = await open(name, options);
        if (name !== ALLOCATIONS_BUCKET) return kv;
        return new Proxy(kv, {
          get: (target, prop) => {
            if (prop === 'create') return () => Promise.reject(new Error('stream not available'));
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      });
      try {
        await expect(client.request(AllocateNumber, request)).rejects.toMatchObject({
          code: ErrorCodes.INTERNAL,
        });
      } finally {
        refusing.mockRestore();
      }
      const record = await db.collection('allocations').findOne({ _id: request.allocationId as never });
      expect(record?.virtualNumber).toBe(US[0]);
      const live = () =>
        db.collection('holds').countDocuments({ allocationId: request.allocationId, liveMarker: 'L' });
      expect(await live()).toBe(2);
      // The retry answers the recorded number, and its parties still hold it: another session of the
      // first party gets another number, never the pair the first session was given.
      expect((await client.request(AllocateNumber, request)).virtualNumber).toBe(US[0]);
      expect((await allocate([rider(170), rider(172)])).virtualNumber).toBe(US[1]);
      // The caller's release (it counts a failed allocation as possibly made) frees the claim.
      expect(
        await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId: request.allocationId }),
      ).toMatchObject({
        released: 2,
      });
      expect(await live()).toBe(0);
    });

    it('answers concurrent attempts of one allocation alike, with one claim per party left live', async () => {
      const request = allocationRequest([rider(160), rider(161)]);
      // Records held back (a busy store) until a refused attempt has begun waiting for its siblings'
      // record, or an attempt has answered: the attempts that each hold one of the numbers are still
      // recording while the others find every number held by these parties. They wait for the
      // record, never answering "every number is held" (which they did, now and then, in CI).
      let letRecordsIn!: () => void;
      const recordsLetIn = new Promise<void>((resolve) => (letRecordsIn = resolve));
      const records = app.get(AllocationRepository);
      const insert = records.insert.bind(records);
      const heldBack = jest.spyOn(records, 'insert').mockImplementation(async (record) => {
        await recordsLetIn;
        return insert(record);
      });
      const holds = app.get<HoldStore>(HOLD_STORE);
      const liveHoldsOf = holds.liveHoldsOf.bind(holds);
      const waiting = jest.spyOn(holds, 'liveHoldsOf').mockImplementation(async (accountId, allocationId) => {
        if (allocationId === request.allocationId) letRecordsIn();
        return liveHoldsOf(accountId, allocationId);
      });
      let answers;
      try {
        answers = await Promise.all(
          Array.from({ length: 8 }, () => client.request(AllocateNumber, request).finally(letRecordsIn)),
        );
      } finally {
        heldBack.mockRestore();
        waiting.mockRestore();
      }
      expect(new Set(answers.map((a) => a.virtualNumber)).size).toBe(1);
      const live = await db
        .collection('holds')
        .find({ allocationId: request.allocationId, liveMarker: 'L' })
        .toArray();
      expect(live.map((h) => [h.virtualNumber, h.party]).sort()).toEqual(
        request.parties.map((p) => [answers[0].virtualNumber, p]).sort(),
      );
      // Released, the parties are free again: nothing else of the attempts was left holding them.
      await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId: request.allocationId });
      expect((await allocate(request.parties)).virtualNumber).toBe(US[0]);
    });

    it('holds a released pair for the cool-off, only for that pair', async () => {
      const allocationId = randomUUID();
      const first = await client.request(AllocateNumber, {
        scope: ACCOUNT,
        allocationId,
        parties: [rider(20), rider(21)],
        geomatch: true,
        cooloffSeconds: 2,
        excludeNumbers: [],
      });
      await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId });
      expect((await allocate([rider(20), rider(22)])).virtualNumber).not.toBe(first.virtualNumber);
      expect((await allocate([rider(23), rider(24)])).virtualNumber).toBe(first.virtualNumber);
      const cooling = await client.request(GetPoolUtilization, { scope: ACCOUNT });
      clock.advance(2001); // the cool-off (2 s) is over
      // Utilization agrees with the allocator: the pair stopped counting as live when its cool-off ended.
      const cooled = await client.request(GetPoolUtilization, { scope: ACCOUNT });
      expect(cooled.liveSessions).toBe(cooling.liveSessions - 1);
      expect((await allocate([rider(20), rider(25)])).virtualNumber).toBe(first.virtualNumber);
    });

    it('a release that comes before its allocation (the caller gave up waiting) wins: the late allocation holds nothing', async () => {
      const allocationId = randomUUID();
      await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId });
      await expect(
        client.request(AllocateNumber, {
          scope: ACCOUNT,
          allocationId,
          parties: [rider(60), rider(61)],
          geomatch: true,
          cooloffSeconds: 0,
          excludeNumbers: [],
        }),
      ).rejects.toMatchObject({ code: ErrorCodes.CONFLICT });
      expect(await db.collection('holds').countDocuments({ allocationId, liveMarker: 'L' })).toBe(0);
      // The parties are free: nothing was left holding them.
      expect((await allocate([rider(60), rider(61)])).virtualNumber).toBe(US[0]);
    });

    it('a record loses to a release that KV holds (the store copy of a release does not last), and leaves nothing', async () => {
      const allocationId = randomUUID();
      await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId });
      await db.collection('allocations').deleteOne({ _id: allocationId as never });
      const store = app.get<HoldStore>(HOLD_STORE);
      const recorded = await store.insertAllocation({
        _id: allocationId,
        accountId: ACCOUNT.accountId,
        virtualNumber: US[2],
        holdIds: [],
        parties: [rider(64)],
        cooloffSeconds: 0,
        releasedAt: null,
        createdAt: new Date(),
      });
      expect(recorded).toBe(false);
      expect(await db.collection('allocations').countDocuments({ _id: allocationId as never })).toBe(0);
    });

    it('a release of an allocation that failed after claiming holds (no record) frees those holds', async () => {
      const allocationId = randomUUID();
      // What an allocation that died between its hold and its record leaves behind.
      await insertLiveHold(allocationId, US[1], rider(62));
      expect(await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId })).toMatchObject({
        released: 1,
      });
      expect(await db.collection('holds').countDocuments({ allocationId, liveMarker: 'L' })).toBe(0);
      // Another account's release of the same id frees nothing of this account's.
      await client.request(ReleaseAllocation, { scope: OTHER, allocationId });
    });

    it('refuses early, with the reason, when a party holds every number', async () => {
      const busy = rider(30);
      for (let i = 0; i < 3; i++) await allocate([busy, rider(31 + i)]);
      const err = await allocate([busy, rider(40)]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: PoolErrorCodes.EXHAUSTED });
      expect((err as Error).message).toContain(`already held by first party ${busy}`);
      await expect(allocate(['+81312345678', rider(41)])).rejects.toMatchObject({
        code: PoolErrorCodes.EXHAUSTED,
        message: "no virtual number in JP (+81) in this account's pool",
      });
    });

    it('skips excluded numbers (the PIN service refused them)', async () => {
      const r = await allocate([rider(50), rider(51)], { excludeNumbers: [US[0], US[1]] });
      expect(r.virtualNumber).toBe(US[2]);
    });

    it('lets a single-party session gain its second party unless that party already holds the number', async () => {
      const allocationId = randomUUID();
      const single = await client.request(AllocateNumber, {
        scope: ACCOUNT,
        allocationId,
        parties: [rider(60)],
        geomatch: true,
        cooloffSeconds: 0,
        excludeNumbers: [],
      });
      const blocker = await allocate([rider(61), rider(62)]);
      expect(blocker.virtualNumber).toBe(single.virtualNumber);
      await expect(
        client.request(AddAllocationParty, { scope: ACCOUNT, allocationId, party: rider(61) }),
      ).rejects.toMatchObject({
        code: PoolErrorCodes.PARTY_CONFLICT,
      });
      await expect(
        client.request(AddAllocationParty, { scope: ACCOUNT, allocationId, party: rider(63) }),
      ).resolves.toEqual({
        virtualNumber: single.virtualNumber,
      });
    });

    it('adds a party at most once, whatever the attempts: two at once both answer (one hold), and one whose claim was never recorded claims it again', async () => {
      const single = allocationRequest([rider(90)]);
      const { virtualNumber } = await client.request(AllocateNumber, single);
      const add = (party: string) =>
        client.request(AddAllocationParty, { scope: ACCOUNT, allocationId: single.allocationId, party });
      // A request and its retry, at once: before, the second was refused as holding the number elsewhere.
      expect(await Promise.all([add(rider(91)), add(rider(91))])).toEqual([
        { virtualNumber },
        { virtualNumber },
      ]);
      expect(
        await db.collection('holds').countDocuments({ virtualNumber, party: rider(91), liveMarker: 'L' }),
      ).toBe(1);

      // An attempt that claimed its hold and stopped before recording it (its process died): asked again.
      const other = allocationRequest([rider(92)]);
      await client.request(AllocateNumber, other);
      const claimed = await insertLiveHold(other.allocationId, virtualNumber, rider(93));
      await expect(
        client.request(AddAllocationParty, {
          scope: ACCOUNT,
          allocationId: other.allocationId,
          party: rider(93),
        }),
      ).resolves.toEqual({ virtualNumber });
      expect(
        await app.get<HoldStore>(HOLD_STORE).allocation(ACCOUNT.accountId, other.allocationId),
      ).toMatchObject({
        parties: [rider(92), rider(93)],
        holdIds: [expect.any(String), claimed.insertedId],
      });
    });

    it('never brings back a released allocation: an add whose record write comes after a release that came after its read is refused, its claim taken back, and the release stands', async () => {
      const single = allocationRequest([rider(94)]);
      const { virtualNumber } = await client.request(AllocateNumber, single);
      const kv = app.get(KeyValueStores);
      const leaderEntry = kv.leaderEntry.bind(kv);
      // The release lands between the add's look at the record and its write of it.
      const spy = jest.spyOn(kv, 'leaderEntry').mockImplementationOnce(async (bucket, key) => {
        const entry = await leaderEntry(bucket, key);
        await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId: single.allocationId });
        return entry;
      });
      try {
        await expect(
          client.request(AddAllocationParty, {
            scope: ACCOUNT,
            allocationId: single.allocationId,
            party: rider(95),
          }),
        ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
      } finally {
        spy.mockRestore();
      }
      expect(
        await app
          .get<HoldStore>(HOLD_STORE)
          .allocation(ACCOUNT.accountId, single.allocationId, { fresh: true }),
      ).toMatchObject({ parties: [], releasedAt: expect.any(Date) });
      expect(
        await db.collection<{ _id: string }>('allocations').countDocuments({ _id: single.allocationId }),
      ).toBe(0);
      // Its claim taken back at once (never a session's); the released party sits out its cool-off.
      expect(
        await db.collection('holds').countDocuments({ virtualNumber, party: rider(95), liveMarker: 'L' }),
      ).toBe(0);
    });

    it('adds one of two parties asked at once to a one-party allocation; the other is refused and keeps no hold', async () => {
      const single = allocationRequest([rider(96)]);
      const { virtualNumber } = await client.request(AllocateNumber, single);
      const add = (party: string) =>
        client.request(AddAllocationParty, { scope: ACCOUNT, allocationId: single.allocationId, party }).then(
          () => 'added',
          (err: { code?: string }) => err.code,
        );
      const answers = await Promise.all([add(rider(97)), add(rider(98))]);
      expect([...answers].sort()).toEqual([ErrorCodes.VALIDATION, 'added'].sort());
      const added = answers[0] === 'added' ? rider(97) : rider(98);
      const refused = added === rider(97) ? rider(98) : rider(97);
      expect(
        await app
          .get<HoldStore>(HOLD_STORE)
          .allocation(ACCOUNT.accountId, single.allocationId, { fresh: true }),
      ).toMatchObject({ parties: [rider(96), added] });
      const live = (party: string) =>
        db.collection('holds').countDocuments({ virtualNumber, party, liveMarker: 'L' });
      expect([await live(added), await live(refused)]).toEqual([1, 0]);
    });

    it('stops giving a deleted number to new sessions while its live sessions keep it', async () => {
      const extra = '+14155550109';
      await client.request(AddVirtualNumbers, { scope: ACCOUNT, numbers: [extra], provider: 'plivo' });
      const busy = rider(70);
      const held: string[] = [];
      for (let i = 0; i < 4; i++) held.push((await allocate([busy, rider(71 + i)])).virtualNumber);
      expect(held).toContain(extra);
      await client.request(DeleteVirtualNumber, { scope: ACCOUNT, number: extra });
      await expect(allocate([busy, rider(80)])).rejects.toMatchObject({ code: PoolErrorCodes.EXHAUSTED });
      expect(
        await db.collection('holds').countDocuments({ virtualNumber: extra, party: busy, liveMarker: 'L' }),
      ).toBe(1);
    });

    it('allocates a subaccount’s sessions only from its own numbers, and the main account never from them', async () => {
      const scope: AccountScope = { accountId: 'MADDDDDDDDDDDDDDDDD4' };
      const sub: AccountScope = { ...scope, subaccountId: 'SADDDDDDDDDDDDDDDDD5' };
      await client.request(AddVirtualNumbers, { scope, numbers: ['+14155550120'], provider: 'plivo' });
      await client.request(AddVirtualNumbers, { scope: sub, numbers: ['+14155550121'], provider: 'plivo' });
      expect((await allocate([rider(100), rider(101)], {}, sub)).virtualNumber).toBe('+14155550121');
      expect((await allocate([rider(102), rider(103)], {}, scope)).virtualNumber).toBe('+14155550120');
      await expect(
        client.request(GetVirtualNumber, { scope: sub, number: '+14155550120' }),
      ).rejects.toMatchObject({
        code: ErrorCodes.NOT_FOUND,
      });
    });

    it('takes a number for a new session only while it is the creating subaccount’s (moved meanwhile: the new holder’s alone)', async () => {
      const scope: AccountScope = { accountId: 'MADDDDDDDDDDDDDDDDD6' };
      const [a, b] = ['SADDDDDDDDDDDDDDDDD7', 'SADDDDDDDDDDDDDDDDD8'];
      const moved = '+14155550122';
      await client.request(AddVirtualNumbers, {
        scope: { ...scope, subaccountId: a },
        numbers: [moved],
        provider: 'plivo',
      });
      const inventory = app.get(InventoryService);
      expect(await inventory.takesNewSessions(scope.accountId, a, moved, ['voice'])).toBe(true);
      const changes: Array<{ number: string; movedWithin?: true }> = [];
      const announcements = client.nc.subscribe(VirtualNumberChanged.subject, {
        callback: (_err, msg) => {
          const change = eventFromWire(msg.json(), msg.headers?.get(EVENT_EXTENSION_HEADER)) as {
            number: string;
            movedWithin?: true;
          };
          if (change.number === moved) changes.push(change);
        },
      });
      // The main account moves it to another subaccount: an allocation of the first (its candidates
      // read before the move, on another replica) is refused it at its last check.
      await client.request(UpdateVirtualNumber, { scope, number: moved, subaccountId: b });
      expect(await inventory.takesNewSessions(scope.accountId, a, moved, ['voice'])).toBe(false);
      expect(await inventory.takesNewSessions(scope.accountId, null, moved, ['voice'])).toBe(false);
      expect(await inventory.takesNewSessions(scope.accountId, b, moved, ['voice'])).toBe(true);
      // Added again by the main account without naming a subaccount (a provisioning script): it stays
      // where it is, its sessions with it; only an update moves it.
      await client.request(AddVirtualNumbers, { scope, numbers: [moved], provider: 'plivo' });
      expect(await client.request(GetVirtualNumber, { scope, number: moved })).toMatchObject({
        subaccountId: b,
      });
      expect(await inventory.takesNewSessions(scope.accountId, b, moved, ['voice'])).toBe(true);
      // The move announced as one (session-service looks again for the old holder's late sessions);
      // the add that moved nothing, and an alias, not.
      await client.request(UpdateVirtualNumber, { scope, number: moved, alias: 'still b' });
      // Deleted, then added again by the main account: its own now (a deleted one is whoever adds it),
      // announced as moved.
      await client.request(DeleteVirtualNumber, { scope, number: moved });
      await client.request(AddVirtualNumbers, { scope, numbers: [moved], provider: 'plivo' });
      expect(await client.request(GetVirtualNumber, { scope, number: moved })).toMatchObject({
        subaccountId: null,
      });
      await expectEventually(() =>
        expect(changes.map((c) => c.movedWithin ?? false)).toEqual([true, false, false, false, true]),
      );
      announcements.unsubscribe();
    });

    /** A session's number for `parties` of `who`, whose pairs cool off for an hour once it ends. */
    const allocateCoolingOff = (who: AccountScope, allocationId: string, parties: string[]) =>
      client.request(AllocateNumber, {
        scope: who,
        allocationId,
        parties,
        geomatch: true,
        cooloffSeconds: 3600,
        excludeNumbers: [],
      });

    /**
     * A main account (`MADDDDDDDDDDDDDDDD` and `account`) with two subaccounts (`first`, `second`), the
     * first holding `number`.
     */
    const siblingsSharing = async (
      account: string,
      first: string,
      second: string,
      number: string,
      provider: 'plivo' | 'twilio',
    ) => {
      const scope: AccountScope = { accountId: `MADDDDDDDDDDDDDDDD${account}` };
      const [a, b]: AccountScope[] = [
        { ...scope, subaccountId: `SADDDDDDDDDDDDDDDD${first}` },
        { ...scope, subaccountId: `SADDDDDDDDDDDDDDDD${second}` },
      ];
      await client.request(AddVirtualNumbers, { scope: a, numbers: [number], provider });
      return { scope, a, b, number };
    };

    it('frees a number moved to another subaccount of its former holder’s pairs: their cool-offs end, a session it ends later cools nothing off, and none of its sessions gains a party there; moved back, the holder’s own stand', async () => {
      const { scope, a, b, number: moved } = await siblingsSharing('E0', 'E1', 'E2', '+14155550124', 'plivo');
      const allocated = async (who: AccountScope, parties: string[]) => {
        const allocationId = randomUUID();
        const { virtualNumber } = await allocateCoolingOff(who, allocationId, parties);
        expect(virtualNumber).toBe(moved);
        return allocationId;
      };
      const cooling = (who: AccountScope, parties: string[]) =>
        expect(allocated(who, parties)).rejects.toMatchObject({ code: PoolErrorCodes.EXHAUSTED });
      // The first subaccount: a session ended (its pair cooling off for an hour), one live, and one
      // live with a single party.
      const ended = await allocated(a, [rider(600), rider(601)]);
      await client.request(ReleaseAllocation, { scope: a, allocationId: ended });
      const live = await allocated(a, [rider(602), rider(603)]);
      const single = await allocated(a, [rider(604)]);
      await cooling(a, [rider(600), rider(605)]);
      await client.request(UpdateVirtualNumber, { scope, number: moved, subaccountId: b.subaccountId });
      // The single-party session gains no party on the sibling's number (session-service ends it).
      await expect(
        client.request(AddAllocationParty, { scope: a, allocationId: single, party: rider(606) }),
      ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
      // The live one ended after the move (by session-service): its pair does not cool off there.
      await client.request(ReleaseAllocation, { scope: a, allocationId: live });
      // The new holder gets its number for the phones the first had put on it, at once: nothing tells
      // it which they were.
      await allocated(b, [rider(600), rider(601)]);
      await allocated(b, [rider(602), rider(603)]);
      // Its own pairs cool off as any do, and its own single-party session gains a party.
      const own = await allocated(b, [rider(607), rider(608)]);
      await client.request(ReleaseAllocation, { scope: b, allocationId: own });
      await cooling(b, [rider(607), rider(609)]);
      // A move's retirement spares the new holder's own pairs (one released while the move was under
      // way): its cool-off stands.
      await app.get(HoldMaintenance).retireCoolingOff(scope.accountId, moved, b.subaccountId);
      await cooling(b, [rider(607), rider(609)]);
      const ownSingle = await allocated(b, [rider(610)]);
      await expect(
        client.request(AddAllocationParty, { scope: b, allocationId: ownSingle, party: rider(611) }),
      ).resolves.toEqual({ virtualNumber: moved });
      // Deleted and added again by the main account (whoever adds a deleted number has it): the
      // second's pairs freed in turn, its sessions gain no party; the main account's own cool-offs
      // stand.
      await client.request(DeleteVirtualNumber, { scope, number: moved });
      await client.request(AddVirtualNumbers, { scope, numbers: [moved], provider: 'plivo' });
      await allocated(scope, [rider(607), rider(608)]);
      await expect(
        client.request(AddAllocationParty, { scope: b, allocationId: ownSingle, party: rider(612) }),
      ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
      const mine = await allocated(scope, [rider(613), rider(614)]);
      await client.request(ReleaseAllocation, { scope, allocationId: mine });
      await cooling(scope, [rider(613), rider(615)]);
      // Moved away and back by updates: the main account's single-party session gains a party again
      // on its own number (while away it could not).
      const mainSingle = await allocated(scope, [rider(616)]);
      await client.request(UpdateVirtualNumber, { scope, number: moved, subaccountId: b.subaccountId });
      await expect(
        client.request(AddAllocationParty, { scope, allocationId: mainSingle, party: rider(617) }),
      ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
      await client.request(UpdateVirtualNumber, { scope, number: moved, subaccountId: null });
      await expect(
        client.request(AddAllocationParty, { scope, allocationId: mainSingle, party: rider(617) }),
      ).resolves.toEqual({ virtualNumber: moved });
    });

    it('gives a Service a number only while it is still its owner’s: an assignment racing a move to a sibling leaves no claim, and the sibling’s own Service takes the number', async () => {
      const { scope, a, b, number } = await siblingsSharing('F3', 'F4', 'F5', '+14155550126', 'twilio');
      // The first subaccount's assignment has looked at the number (its own) when the main account
      // moves it to the sibling; its claim is taken just after.
      const claims = app.get(ProxyNumberClaimRepository);
      const take = claims.take.bind(claims);
      const racing = jest.spyOn(claims, 'take').mockImplementationOnce(async (...args) => {
        await client.request(UpdateVirtualNumber, { scope, number, subaccountId: b.subaccountId });
        return take(...args);
      });
      try {
        await expect(
          client.request(AssignProxyNumber, { scope: a, serviceSid: `KS${'d'.repeat(32)}`, number }),
        ).rejects.toMatchObject({ code: ProxyErrorCodes.NUMBER_NOT_AVAILABLE });
      } finally {
        racing.mockRestore();
      }
      // Nothing of the first's is left on it: the sibling gives it to a Service of its own.
      await expect(
        client.request(AssignProxyNumber, { scope: b, serviceSid: `KS${'e'.repeat(32)}`, number }),
      ).resolves.toMatchObject({ number, proxyServiceSid: `KS${'e'.repeat(32)}` });
    });

    it('leaves no claim of the former holder’s when its assignment runs while the move is under way: the move gives Service claims back after the number is the new holder’s', async () => {
      const { scope, a, b, number } = await siblingsSharing('F6', 'F7', 'F8', '+14155550127', 'twilio');
      const [former, own] = [`KS${'f'.repeat(32)}`, `KS${'9'.repeat(32)}`];
      await client.request(AssignProxyNumber, { scope: a, serviceSid: former, number });
      // The move gives the Service's claim back; the former holder's assignment runs at that moment.
      const claims = app.get(ProxyNumberClaimRepository);
      const release = claims.release.bind(claims);
      let assigned: unknown;
      const racing = jest.spyOn(claims, 'release').mockImplementationOnce(async (...args) => {
        await release(...args);
        assigned = await client.request(AssignProxyNumber, { scope: a, serviceSid: former, number }).then(
          (n) => n.proxyServiceSid,
          (err: { code?: string }) => err.code,
        );
      });
      try {
        await client.request(UpdateVirtualNumber, { scope, number, subaccountId: b.subaccountId });
      } finally {
        racing.mockRestore();
      }
      expect(assigned).toBe(ProxyErrorCodes.NUMBER_NOT_AVAILABLE);
      // The sibling gives its number to a Service of its own.
      await expect(
        client.request(AssignProxyNumber, { scope: b, serviceSid: own, number }),
      ).resolves.toMatchObject({ number, proxyServiceSid: own });
    });

    it('gives back only its former Service’s claim: the new holder’s Service, given the number between the move’s write and its release, keeps it', async () => {
      const { scope, a, b, number } = await siblingsSharing('FC', 'FD', 'FE', '+14155550129', 'twilio');
      const [former, own] = [`KS${'8'.repeat(32)}`, `KS${'7'.repeat(32)}`];
      await client.request(AssignProxyNumber, { scope: a, serviceSid: former, number });
      const claims = app.get(ProxyNumberClaimRepository);
      const release = claims.release.bind(claims);
      // The number is the sibling's once the move has written it; the sibling's Service takes it
      // before the move gives the former Service's claim back (the former's claim, past its grace and
      // not the number's Service now, is given back as stale by the sibling's assignment).
      let released: unknown[] = [];
      const racing = jest.spyOn(claims, 'release').mockImplementationOnce(async (...args) => {
        released = args;
        await db
          .collection('proxy_number_claims')
          .updateOne({ _id: number as never }, { $set: { createdAt: new Date(Date.now() - 3600_000) } });
        await client.request(AssignProxyNumber, { scope: b, serviceSid: own, number });
        return release(...args);
      });
      try {
        await client.request(UpdateVirtualNumber, { scope, number, subaccountId: b.subaccountId });
      } finally {
        racing.mockRestore();
      }
      expect(released).toEqual([scope.accountId, number, former]);
      await expect(claims.holder(scope.accountId, number)).resolves.toMatchObject({ serviceSid: own });
      // Still the sibling's Service's: another of its Services cannot take it.
      await expect(
        client.request(AssignProxyNumber, { scope: b, serviceSid: `KS${'6'.repeat(32)}`, number }),
      ).rejects.toMatchObject({ code: ProxyErrorCodes.NUMBER_NOT_AVAILABLE });
    });

    it('does not let a subaccount’s delete of its number land on its sibling’s, its main account’s move landing between the delete’s read and its write', async () => {
      const { scope, a, b, number } = await siblingsSharing('D0', 'D1', 'D2', '+14155550140', 'twilio');
      const own = `KS${'5'.repeat(32)}`;
      const numbers = app.get(VirtualNumberRepository);
      const read = numbers.get.bind(numbers);
      const racing = jest.spyOn(numbers, 'get').mockImplementationOnce(async (...args) => {
        const doc = await read(...args);
        await client.request(UpdateVirtualNumber, { scope, number, subaccountId: b.subaccountId });
        await client.request(AssignProxyNumber, { scope: b, serviceSid: own, number });
        return doc;
      });
      try {
        await expect(client.request(DeleteVirtualNumber, { scope: a, number })).rejects.toMatchObject({
          code: ErrorCodes.CONFLICT,
        });
      } finally {
        racing.mockRestore();
      }
      // Still the sibling's, active, and its Service's.
      await expect(client.request(GetVirtualNumber, { scope: b, number })).resolves.toMatchObject({
        number,
        proxyServiceSid: own,
      });
      const claims = app.get(ProxyNumberClaimRepository);
      await expect(claims.holder(scope.accountId, number)).resolves.toMatchObject({ serviceSid: own });
    });

    it('does not let a subaccount’s re-add of its number undo its main account’s move of it to a sibling, the move landing between the re-add’s read and its write', async () => {
      const { scope, a, b, number } = await siblingsSharing('F9', 'FA', 'FB', '+14155550128', 'plivo');
      const numbers = app.get(VirtualNumberRepository);
      const read = numbers.findAnyAccountSystemWide.bind(numbers);
      let reads = 0;
      // The re-add reads the number twice; the move lands right after its second read.
      const racing = jest.spyOn(numbers, 'findAnyAccountSystemWide').mockImplementation(async (n) => {
        const doc = await read(n);
        if (++reads === 2) {
          await client.request(UpdateVirtualNumber, { scope, number, subaccountId: b.subaccountId });
        }
        return doc;
      });
      try {
        await expect(
          client.request(AddVirtualNumbers, { scope: a, numbers: [number], provider: 'plivo' }),
        ).rejects.toMatchObject({ code: ErrorCodes.CONFLICT });
      } finally {
        racing.mockRestore();
      }
      // The sibling keeps it.
      expect(await client.request(GetVirtualNumber, { scope, number })).toMatchObject({
        subaccountId: b.subaccountId,
      });
      // Asked again, the re-add is judged afresh: not the first subaccount's to re-add.
      await expect(
        client.request(AddVirtualNumbers, { scope: a, numbers: [number], provider: 'plivo' }),
      ).rejects.toMatchObject({ code: PoolErrorCodes.NUMBER_TAKEN });
    });

    it('frees a pair a former holder’s release cooled off while its number moved: the release looks at the number again after writing it', async () => {
      const { scope, a, b, number: moved } = await siblingsSharing('F0', 'F1', 'F2', '+14155550125', 'plivo');
      const allocate = allocateCoolingOff;
      const ended = randomUUID();
      await expect(allocate(a, ended, [rider(620), rider(621)])).resolves.toMatchObject({
        virtualNumber: moved,
      });
      // The release reads the number as the first subaccount's; the move to its sibling (and the move's
      // retirement of the first's cool-offs, none yet) completes before the release writes its cool-off.
      const inventory = app.get(InventoryService);
      const serves = inventory.servesAllocation.bind(inventory);
      const looks = jest.spyOn(inventory, 'servesAllocation').mockImplementationOnce(async (record) => {
        const before = await serves(record);
        await client.request(UpdateVirtualNumber, { scope, number: moved, subaccountId: b.subaccountId });
        return before;
      });
      try {
        await client.request(ReleaseAllocation, { scope: a, allocationId: ended });
        expect(looks.mock.results.length).toBe(2);
        await expect(looks.mock.results[0]?.value).resolves.toBe(true);
      } finally {
        looks.mockRestore();
      }
      // The new holder gets its number for those phones at once: nothing tells it they talked through it.
      await expect(allocate(b, randomUUID(), [rider(620), rider(621)])).resolves.toMatchObject({
        virtualNumber: moved,
      });
    });

    it('gives a session that texts only a number that takes text messages, and any session only one that takes calls', async () => {
      const scope: AccountScope = { accountId: 'MAEEEEEEEEEEEEEEEEE6' };
      const [voiceOnly, textOnly, both] = ['+14155550130', '+14155550131', '+14155550132'];
      await client.request(AddVirtualNumbers, {
        scope,
        numbers: [voiceOnly],
        provider: 'plivo',
        smsEnabled: false,
      });
      await client.request(AddVirtualNumbers, {
        scope,
        numbers: [textOnly],
        provider: 'plivo',
        voiceEnabled: false,
      });
      expect(await client.request(GetVirtualNumber, { scope, number: voiceOnly })).toMatchObject({
        voiceEnabled: true,
        smsEnabled: false,
      });
      const texting = (parties: string[]) =>
        client.request(AllocateNumber, { ...allocationRequest(parties), scope, needs: ['voice', 'sms'] });

      // Calls only: the number that takes calls, never the one that only texts.
      expect((await allocate([rider(110), rider(111)], {}, scope)).virtualNumber).toBe(voiceOnly);
      await expect(allocate([rider(110), rider(112)], {}, scope)).rejects.toMatchObject({
        code: PoolErrorCodes.EXHAUSTED,
      });
      // Calls and texts: neither number carries both.
      await expect(texting([rider(113), rider(114)])).rejects.toMatchObject({
        code: PoolErrorCodes.EXHAUSTED,
        message: expect.stringContaining('that takes text messages'),
      });
      await client.request(AddVirtualNumbers, { scope, numbers: [both], provider: 'plivo' });
      expect((await texting([rider(113), rider(114)])).virtualNumber).toBe(both);
      // A number that stops texting takes no more sessions that text (the pool hears of the change at once).
      await client.request(UpdateVirtualNumber, { scope, number: both, smsEnabled: false });
      await expect(texting([rider(115), rider(116)])).rejects.toMatchObject({
        code: PoolErrorCodes.EXHAUSTED,
      });
      expect((await allocate([rider(115), rider(116)], {}, scope)).virtualNumber).toBe(voiceOnly);
    });

    it('reports utilization against Δ', async () => {
      const u = await client.request(GetPoolUtilization, { scope: ACCOUNT });
      expect(u.delta).toBeGreaterThanOrEqual(3);
      expect(u.numbersInUse).toBeLessThanOrEqual(u.numbersTotal + 1);
      expect(u.plivoRuleNumbers).toBe(2 * u.delta - 1);
    });
  });

  describe('upgrade from release 0.1.0', () => {
    it('counts holds that release wrote (their allocation under `sessionId`), and writes that name too', async () => {
      const before = await client.request(GetPoolUtilization, { scope: ACCOUNT });
      const legacy = (i: number) => ({
        _id: randomUUID(),
        accountId: ACCOUNT.accountId,
        sessionId: randomUUID(),
        virtualNumber: GB,
        party: rider(200 + i),
        liveMarker: 'L',
        cooloffSeconds: 0,
        createdAt: new Date(),
        releasedAt: null,
        blockedUntil: null,
        retiredAt: null,
      });
      await db.collection('holds').insertMany([legacy(1), legacy(2)] as never[]);
      const after = await client.request(GetPoolUtilization, { scope: ACCOUNT });
      expect(after.liveSessions).toBe(before.liveSessions + 2);
      const allocationId = randomUUID();
      await client.request(AllocateNumber, {
        scope: ACCOUNT,
        allocationId,
        parties: [rider(210), rider(211)],
        geomatch: true,
        cooloffSeconds: 0,
        excludeNumbers: [],
      });
      const written = await db.collection('holds').findOne({ allocationId });
      expect(written).toMatchObject({ allocationId, sessionId: allocationId });
    });
  });

  describe('cleanup', () => {
    /** A replica whose reaper runs every 100 ms with this retention, for the duration of `body`. */
    async function withReaper(retentionMs: number, body: () => Promise<void>) {
      const reaping = await startServiceApp(
        NumberPoolModule.forRoot({ ...config(), REAPER_INTERVAL_MS: 100, RETIRED_RETENTION_MS: retentionMs }),
        { clock: clock.now },
      );
      try {
        await body();
      } finally {
        await reaping.close();
      }
    }
    const allocate = (allocationId: string, parties: string[], cooloffSeconds: number) =>
      client.request(AllocateNumber, {
        scope: ACCOUNT,
        allocationId,
        parties,
        geomatch: true,
        cooloffSeconds,
        excludeNumbers: [],
      });

    it('removes the purge markers an earlier release left of cleared pairs, those written while it runs too (a rollout), and keeps live hints', () =>
      withReaper(0, async () => {
        const kv = app.get(KeyValueStores);
        const pairs = await kv.bucket(PAIR_HINTS_BUCKET);
        // As a replica of an earlier release clears a hint: a purge, its marker kept.
        const leaveMarker = async (key: string) =>
          pairs.purge(key, { previousSeq: await pairs.put(key, new Uint8Array([1])) });
        const left = [pairKey(US[0], rider(14)), pairKey(US[1], rider(14))];
        await leaveMarker(left[0]);
        const live = await client.request(AllocateNumber, allocationRequest([rider(15), rider(16)]));
        await expectEventually(async () =>
          expect(await kv.leaderEntry(PAIR_HINTS_BUCKET, left[0])).toBeNull(),
        );
        // Once the reaper has read the bucket through, a marker written later goes too.
        await leaveMarker(left[1]);
        await expectEventually(async () =>
          expect(await kv.leaderEntry(PAIR_HINTS_BUCKET, left[1])).toBeNull(),
        );
        expect(await kv.leaderEntry(PAIR_HINTS_BUCKET, pairKey(live.virtualNumber, rider(15)))).toMatchObject(
          {
            operation: 'PUT',
          },
        );
      }));

    it('retires a pair when its cool-off ends and purges old records, so nothing piles up', () =>
      withReaper(0, async () => {
        const allocationId = randomUUID();
        // A cool-off of 3 s: long enough that the pair is still held when looked at on a busy machine.
        await allocate(allocationId, [rider(90), rider(91)], 3);
        await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId });
        expect(await db.collection('holds').countDocuments({ allocationId, liveMarker: 'L' })).toBe(2);
        await expectEventually(
          async () => {
            expect(await db.collection('holds').countDocuments({ allocationId })).toBe(0);
            expect(await db.collection('allocations').countDocuments({ _id: allocationId as never })).toBe(0);
          },
          { timeoutMs: 20_000 },
        );
      }));

    it('purges the store copy of a release tombstone after the retention; KV still refuses the late allocation', () =>
      withReaper(0, async () => {
        const allocationId = randomUUID();
        await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId });
        await expectEventually(async () => {
          expect(await db.collection('allocations').countDocuments({ _id: allocationId as never })).toBe(0);
        });
        await expect(allocate(allocationId, [rider(94), rider(95)], 0)).rejects.toMatchObject({
          code: 'CONFLICT',
        });
        expect(await db.collection('holds').countDocuments({ allocationId, liveMarker: 'L' })).toBe(0);
      }));

    it('releases a claim the store carried out after its allocation was released (a late write), and only that', () =>
      withReaper(0, async () => {
        const live = randomUUID();
        await allocate(live, [rider(97), rider(98)], 0);
        const released = randomUUID();
        await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId: released });
        // The claim of an allocation whose insert timed out, landing once the store resumed: after
        // the caller's release found nothing to release.
        await insertLiveHold(released, US[1], rider(96));
        await expectEventually(async () => {
          expect(
            await db.collection('holds').countDocuments({ allocationId: released, liveMarker: 'L' }),
          ).toBe(0);
        });
        expect(await db.collection('holds').countDocuments({ allocationId: live, liveMarker: 'L' })).toBe(2);
      }));

    it('releases a late claim of a release that came first even once KV has forgotten its record (bounded, it forgets its oldest first): the store’s copy says released', () =>
      withReaper(3_600_000, async () => {
        const released = randomUUID();
        await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId: released });
        // KV full of newer records: this one forgotten; the store still holds the release's tombstone.
        await (await client.nc.jetstream().views.kv(ALLOCATIONS_BUCKET)).purge(released);
        await insertLiveHold(released, US[1], rider(93));
        await expectEventually(async () => {
          expect(
            await db.collection('holds').countDocuments({ allocationId: released, liveMarker: 'L' }),
          ).toBe(0);
        });
      }));

    it('keeps a released pair’s cool-off when the release is retried after KV has forgotten the released record', async () => {
      const allocationId = randomUUID();
      await allocate(allocationId, [rider(88), rider(89)], 3600);
      await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId });
      const blocked = async () =>
        (await db.collection('holds').find({ allocationId, liveMarker: 'L' }).toArray()).map((h) =>
          (h.blockedUntil as Date).getTime(),
        );
      const before = await blocked();
      expect(before).toHaveLength(2);
      // KV full of newer records: the released one forgotten; the store keeps no released allocation.
      await (await client.nc.jetstream().views.kv(ALLOCATIONS_BUCKET)).purge(allocationId);
      // A retried release (an expirer retried hours later, say): nothing more to release.
      await expect(
        client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId }),
      ).resolves.toMatchObject({
        released: 0,
      });
      expect(await blocked()).toEqual(before);
    });

    it('looks at every active hold in turn for the stray check, a page a run, from where the last run stopped', async () => {
      for (let i = 0; i < 7; i++) await allocate(randomUUID(), [rider(300 + 2 * i), rider(301 + 2 * i)], 0);
      const active = await db
        .collection('holds')
        .find({ liveMarker: 'L', blockedUntil: null }, { projection: { _id: 1 } })
        .toArray();
      const ids = active.map((h) => String(h._id));
      expect(ids.length).toBeGreaterThanOrEqual(14);
      // Its own instance: the service's reaper moves the service's cursor.
      const maintenance = new HoldMaintenance(
        app.get(HoldRepository),
        app.get(AllocationRepository),
        app.get<HoldStore>(HOLD_STORE),
        clock.now,
      );
      const limit = 4;
      const seen = new Map<string, number>();
      for (let run = 0; run < Math.ceil(ids.length / limit); run++) {
        const page = await maintenance.nextActiveHolds(limit);
        expect(page.length).toBe(limit);
        expect(new Set(page.map((h) => h._id)).size).toBe(limit);
        for (const h of page) seen.set(h._id, (seen.get(h._id) ?? 0) + 1);
      }
      // One turn of the runs has looked at every hold, and at none twice but where the turn wrapped.
      for (const id of ids) expect(seen.get(id)).toBeGreaterThanOrEqual(1);
      expect([...seen.values()].filter((n) => n > 1).length).toBeLessThan(limit);
    });

    it('keeps only what is live in the store: a release takes the holds and the allocation record at once', async () => {
      const allocationId = randomUUID();
      const parties = [rider(92), rider(93)];
      await allocate(allocationId, parties, 0);
      expect(await db.collection('allocations').countDocuments({ _id: allocationId as never })).toBe(1);
      await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId });
      expect(await db.collection('holds').countDocuments({ allocationId })).toBe(0);
      expect(await db.collection('allocations').countDocuments({ _id: allocationId as never })).toBe(0);
      // The released record in KV still stops a late allocation under the same id, and a retried
      // release finds nothing left to do.
      await expect(allocate(allocationId, parties, 0)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await client.request(ReleaseAllocation, { scope: ACCOUNT, allocationId })).toMatchObject({
        released: 0,
      });
    });
  });

  describe('two replicas under contention', () => {
    it('adds sent at once, through both replicas, never together hold more than NUMBERS_PER_ACCOUNT_MAX', async () => {
      const scope: AccountScope = { accountId: 'MAHHHHHHHHHHHHHHHH12' };
      const second = await startServiceApp(NumberPoolModule.forRoot(config()));
      try {
        // 8 adds of 5 new numbers each: 40 for a cap of 30. Each add alone fits.
        const adds = Array.from({ length: 8 }, (_, a) =>
          client
            .request(AddVirtualNumbers, {
              scope,
              numbers: Array.from({ length: 5 }, (_, i) => `+1415559${String(1000 + a * 5 + i)}`),
              provider: 'plivo',
            })
            .then(
              () => 'added',
              (err: { code?: string }) => err.code,
            ),
        );
        const outcomes = await Promise.all(adds);
        const added = outcomes.filter((o) => o === 'added').length;
        // Each add counts what the ones before it left: six fit. One that waited past its budget for
        // its turn (a slow store) is refused as busy instead, never let through.
        expect(added).toBeLessThanOrEqual(INVENTORY_MAX / 5);
        expect(added).toBeGreaterThan(0);
        for (const o of outcomes.filter((o) => o !== 'added'))
          expect([PoolErrorCodes.INVENTORY_FULL, ErrorCodes.CONFLICT]).toContain(o);
        expect(await db.collection('virtual_numbers').countDocuments({ accountId: scope.accountId })).toBe(
          5 * added,
        );
      } finally {
        await second.close();
      }
    });

    it('answers 200 concurrent overlapping allocations with zero invariant violations', async () => {
      const scope: AccountScope = { accountId: 'MACCCCCCCCCCCCCCCCC3' };
      const pool = Array.from({ length: 24 }, (_, i) => `+1415555${String(2000 + i)}`);
      await client.request(AddVirtualNumbers, { scope, numbers: pool, provider: 'twilio' });
      const second = await startServiceApp(NumberPoolModule.forRoot(config()));
      try {
        const people = Array.from({ length: 40 }, (_, i) => `+1415557${String(3000 + i)}`);
        const requests = Array.from({ length: 200 }, (_, i) => {
          const a = people[i % people.length];
          const b =
            people[(i * 7 + 3) % people.length] === a
              ? people[(i + 1) % people.length]
              : people[(i * 7 + 3) % people.length];
          return client
            .request(
              AllocateNumber,
              {
                scope,
                allocationId: randomUUID(),
                parties: [a, b],
                geomatch: true,
                cooloffSeconds: 0,
                excludeNumbers: [],
              },
              60_000,
            )
            .then(
              () => 'allocated',
              (err: { code?: string }) => err.code ?? 'error',
            );
        });
        const outcomes = await Promise.all(requests);
        const counts = outcomes.reduce<Record<string, number>>(
          (acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }),
          {},
        );
        expect(outcomes).toHaveLength(200);
        expect(Object.keys(counts).every((k) => k === 'allocated' || k === PoolErrorCodes.EXHAUSTED)).toBe(
          true,
        );
        expect(counts.allocated).toBeGreaterThan(50);

        const duplicates = await db
          .collection('holds')
          .aggregate([
            { $match: { accountId: scope.accountId, liveMarker: 'L' } },
            { $group: { _id: { n: '$virtualNumber', p: '$party' }, count: { $sum: 1 } } },
            { $match: { count: { $gt: 1 } } },
          ])
          .toArray();
        expect(duplicates).toEqual([]);
        const holds = await db
          .collection('holds')
          .find({ accountId: scope.accountId, liveMarker: 'L' })
          .toArray();
        const allocations = await db.collection('allocations').find({ accountId: scope.accountId }).toArray();
        expect(allocations).toHaveLength(counts.allocated);
        expect(holds).toHaveLength(counts.allocated * 2);
        const recorded = new Set(allocations.flatMap((a) => a.holdIds as string[]));
        expect(holds.every((h) => recorded.has(h._id as unknown as string))).toBe(true);
      } finally {
        await second.close();
      }
    });
  });
});
