import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { VerifyPin, type AccountScope } from '@maskline/contracts';
import { KeyValueStores, kvDecode, kvToken } from '@maskline/messaging';
import {
  TestNatsClient,
  expectEventually,
  startServiceApp,
  startTestNats,
  testClock,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { testPinAuthConfig } from '../config/pin-auth-config.test-fixture';
import { PinAuthModule } from '../pin-auth.module';
import { PIN_THROTTLE_BUCKET } from './pin-throttle';
import { DAY_MS } from './throttle-rules';

let seq = 0;
const phone = () => `+1628555${String(1000 + seq++).padStart(4, '0')}`;
const vn = () => `+1415555${String(7000 + seq++).padStart(4, '0')}`;

/**
 * Each new unknown caller's wrong PIN makes a throttle entry of its own in NATS, and a tenant signs
 * its own numbers' webhooks with any caller number it likes: an account's numbers give entries to at
 * most UNKNOWN_CALLERS_PER_DAY_MAX of them a day (here 4), a subaccount's to its share (here 2).
 * Past it, their wrong PINs count on the number's bar alone (here 6 failures close a number).
 */
describe('unknown callers given entries per account and day (real NATS + store)', () => {
  let nats: RunningProcess;
  let client: TestNatsClient;
  let app: INestApplicationContext;
  const clock = testClock();

  beforeAll(async () => {
    nats = await startTestNats();
    const config = testPinAuthConfig(nats.url, {
      MONGO_DB: uniqueDbName('pin-quota'),
      UNKNOWN_CALLERS_PER_DAY_MAX: '4',
      UNKNOWN_CALLERS_SUBACCOUNT_PERCENT: '50',
      NUMBER_MAX_FAILURES: '6',
      // The reaper (which forgets idle copies by the wall clock) does not run during the tests.
      REAPER_INTERVAL_MS: '3600000',
    });
    // Noon (UTC) of the next day: the tests' day does not end under them.
    clock.advance(DAY_MS + DAY_MS / 2 - (clock.now() % DAY_MS));
    app = await startServiceApp(PinAuthModule.forRoot(config), { clock: clock.now });
    client = await TestNatsClient.connect(nats.url);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  const guess = (scope: AccountScope, virtualNumber: string, caller: string, registered = false) =>
    client.request(VerifyPin, {
      accountId: scope.accountId,
      ...(scope.subaccountId ? { subaccountId: scope.subaccountId } : {}),
      virtualNumber,
      digits: '000000',
      callerNumber: caller,
      callerRegistered: registered,
      callId: randomUUID(),
      attempt: 1,
      maxAttempts: 2,
    });
  const bucket = () => app.get(KeyValueStores).bucket(PIN_THROTTLE_BUCKET);
  const callerKeysOf = async (accountId: string) => {
    const keys: string[] = [];
    for await (const key of await (await bucket()).keys(`caller.${kvToken(accountId)}.>`)) keys.push(key);
    return keys;
  };
  const countIn = async (key: string) => {
    const entry = await (await bucket()).get(key);
    return (entry && kvDecode<{ count: number }>(entry.value)?.count) ?? 0;
  };

  it('gives entries to the account’s count of new unknown callers a day; past it their wrong PINs count on the number’s bar alone, and nobody is refused by it', async () => {
    const account: AccountScope = { accountId: 'MAPINQUOTAACCOUNT001' };
    const [first, second] = [vn(), vn()];
    for (const [i, caller] of [phone(), phone(), phone(), phone()].entries()) {
      expect(await guess(account, i % 2 ? second : first, caller)).toMatchObject({ outcome: 'mismatch' });
    }
    await expectEventually(async () => expect(await countIn(`quota.${kvToken(account.accountId)}`)).toBe(4));
    expect(await callerKeysOf(account.accountId)).toHaveLength(4);

    // Past the count: answered as any wrong PIN, with no entry of its own.
    const uncounted = [phone(), phone(), phone(), phone()];
    for (const caller of uncounted) {
      expect(await guess(account, first, caller)).toMatchObject({ outcome: 'mismatch' });
    }
    expect(await callerKeysOf(account.accountId)).toHaveLength(4);
    // Their failures are the number's: 2 counted before and 4 now close it to unknown callers.
    expect(await guess(account, first, phone())).toMatchObject({ outcome: 'locked', reason: 'number' });
    expect(await guess(account, second, phone())).toMatchObject({ outcome: 'mismatch' });
    // A party of a PIN session there (registered) keeps an entry of its own.
    expect(await guess(account, second, phone(), true)).toMatchObject({ outcome: 'mismatch' });
    expect(await callerKeysOf(account.accountId)).toHaveLength(5);
    // Another account's numbers have their own count.
    const other = 'MAPINQUOTAACCOUNT002';
    expect(await guess({ accountId: other }, vn(), phone())).toMatchObject({ outcome: 'mismatch' });
    expect(await callerKeysOf(other)).toHaveLength(1);

    // The next UTC day, new unknown callers get entries again.
    clock.advance(DAY_MS);
    expect(await guess(account, second, phone())).toMatchObject({ outcome: 'mismatch' });
    expect(await callerKeysOf(account.accountId)).toHaveLength(6);
  });

  it('counts a subaccount’s new unknown callers against its own share and its account’s count', async () => {
    const main: AccountScope = { accountId: 'MAPINQUOTAACCOUNT003' };
    const sub = { ...main, subaccountId: 'SAPINQUOTASUBACCOUN1' };
    const sibling = { ...main, subaccountId: 'SAPINQUOTASUBACCOUN2' };
    const [subs, siblings, mains] = [vn(), vn(), vn()];
    for (let i = 0; i < 3; i++) await guess(sub, subs, phone());
    // Its share (2) given: its third new caller has no entry.
    expect(await callerKeysOf(main.accountId)).toHaveLength(2);
    await expectEventually(async () =>
      expect(await countIn(`quota.${kvToken(main.accountId)}.${kvToken(sub.subaccountId)}`)).toBe(2),
    );
    // The account's count (4) has room: a sibling's and the main account's callers get theirs.
    await guess(sibling, siblings, phone());
    await guess(main, mains, phone());
    expect(await callerKeysOf(main.accountId)).toHaveLength(4);
    // Spent: no holder of the account's numbers gives new ones entries today; none is refused.
    expect(await guess(sibling, siblings, phone())).toMatchObject({ outcome: 'mismatch' });
    expect(await guess(main, mains, phone())).toMatchObject({ outcome: 'mismatch' });
    expect(await callerKeysOf(main.accountId)).toHaveLength(4);
  });
});
