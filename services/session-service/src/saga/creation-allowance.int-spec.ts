import { ErrorCodes } from '@maskline/contracts';
import { kvReplicasForSuite } from '@maskline/testing';
import type { SessionServiceConfig } from '../config/session-service.config';
import { CreationAllowance } from './creation-allowance';

/** The smallest NATS node the settings allow: room for 2,516 creations, a burst of 157 per account (25 % of it, a quarter at once). */
const SMALL = 64 * 1024 ** 2;

describe('session creations per account, across replicas (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');
  let at = Date.parse('2026-12-05T00:00:00Z');
  const clock = () => at;

  /** One session-service replica's allowance, on a node of the smallest size. */
  async function replica(): Promise<CreationAllowance> {
    const { kv } = await replicas.replica({ storageBytes: SMALL, memoryBytes: SMALL });
    const config = {
      NATS_STORAGE_BYTES: SMALL,
      NATS_MEMORY_BYTES: SMALL,
      CREATIONS_ACCOUNT_PERCENT: 25,
      CREATIONS_SUBACCOUNT_PERCENT: 50,
    } as SessionServiceConfig;
    return new CreationAllowance(kv, config, clock);
  }

  let n = 0;
  const account = () => `MA${String(++n).padStart(18, '0')}`;
  const subaccount = () => `SA${String(++n).padStart(18, '0')}`;

  /** Creations taken in turn on `replicas` until one is refused: how many, and the refusal. */
  async function takeUntilRefused(
    on: CreationAllowance[],
    owner: { accountId: string; subaccountId?: string },
  ) {
    for (let taken = 0; taken < 1_000; taken++) {
      const refused = await on[taken % on.length]!.take(owner).then(
        () => undefined,
        (err: unknown) => err,
      );
      if (refused) return { taken, refused };
    }
    throw new Error('never refused');
  }

  it('one account creating flat out is refused past its burst, whichever replica it asks; another account is not', async () => {
    const [a, b] = [await replica(), await replica()];
    const { burst } = a.rule;
    expect(burst).toBe(157);
    const greedy = account();
    const { taken, refused } = await takeUntilRefused([a, b], { accountId: greedy });
    expect(taken).toBe(burst);
    expect(refused).toMatchObject({
      code: ErrorCodes.SESSION_CREATIONS_LIMITED,
      details: { retryAfterSeconds: expect.any(Number) },
    });
    expect((refused as Error).message).toContain('CREATIONS_ACCOUNT_PERCENT');
    expect((refused as Error).message).toContain('this account');
    // Another tenant is untouched.
    expect((await takeUntilRefused([b, a], { accountId: account() })).taken).toBe(burst);
    // Its steady rate comes back with time, one creation at a time.
    at += Math.ceil(1000 / a.rule.ratePerSecond);
    const again = await takeUntilRefused([a, b], { accountId: greedy });
    expect(again.taken).toBe(1);
  });

  it('a subaccount takes at most its share of its account’s; its sibling and the main account keep the rest', async () => {
    const [a, b] = [await replica(), await replica()];
    const accountId = account();
    const first = await takeUntilRefused([a, b], { accountId, subaccountId: subaccount() });
    expect(first.taken).toBe(78); // half of the account's 157
    expect((first.refused as Error).message).toContain('this subaccount');
    // Its own steady rate is floored at one a second; what it may create is its main account's, lower here.
    expect((first.refused as Error).message).toContain(
      `may create ${a.rule.ratePerSecond.toPrecision(2)} a second`,
    );
    expect((await takeUntilRefused([b, a], { accountId, subaccountId: subaccount() })).taken).toBe(78);
    const main = await takeUntilRefused([a], { accountId });
    expect(main.taken).toBe(1);
    expect((main.refused as Error).message).toContain('CREATIONS_ACCOUNT_PERCENT');
  });
});
