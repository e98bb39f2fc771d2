import { ErrorCodes } from '@maskline/contracts';
import type { KeyValueStores } from '@maskline/messaging';
import type { GatewayConfig } from '../config/gateway.config';
import { FOLLOW_UPS_PER_START, InboundWebhookLimiter } from './inbound-webhook-limiter';
import type { AllowanceOwner } from '@maskline/messaging';

describe('InboundWebhookLimiter', () => {
  const config = {
    INBOUND_RATE_LIMIT_PER_SECOND: 2,
    INBOUND_RATE_LIMIT_BURST: 5,
    SUBACCOUNT_RATE_LIMIT_PERCENT: 50,
  } as GatewayConfig;
  const MA1 = { accountId: 'MA1', subaccountId: null };
  const MA2 = { accountId: 'MA2', subaccountId: null };
  // KV away: each replica limits on its own (the shared buckets' fallback), the same rule.
  const kv = {
    declare: () => undefined,
    bucket: async () => {
      throw new Error('KV away');
    },
  } as unknown as KeyValueStores;
  const at = 1_000_000;
  const limiter = () => new InboundWebhookLimiter(config, kv, () => at);
  const spend = async (
    l: InboundWebhookLimiter,
    owner: AllowanceOwner,
    kind: 'start' | 'follow-up',
    n: number,
  ) => {
    let taken = 0;
    for (let i = 0; i < n; i++) {
      try {
        await l.take(owner, kind);
        taken++;
      } catch (err) {
        expect(InboundWebhookLimiter.refused(err)).toBe(true);
      }
    }
    return taken;
  };

  it('holds an account to its burst of starts, and gives its follow-ups FOLLOW_UPS_PER_START times as many, apart', async () => {
    const l = limiter();
    expect(await spend(l, MA1, 'start', 20)).toBe(5);
    // The starts spent do not touch the follow-ups' allowance, nor another account's.
    expect(await spend(l, MA1, 'follow-up', 100)).toBe(5 * FOLLOW_UPS_PER_START);
    expect(await spend(l, MA2, 'start', 20)).toBe(5);
  });

  it('refuses with RATE_LIMITED, naming the limit, with a time to retry', async () => {
    const l = limiter();
    await spend(l, MA1, 'start', 5);
    const refusal = await l.take(MA1, 'start').catch((err: unknown) => err);
    expect(refusal).toMatchObject({
      code: ErrorCodes.RATE_LIMITED,
      message: expect.stringContaining('2 per second'),
      details: { retryAfterSeconds: expect.any(Number) },
    });
  });

  it("holds a subaccount's numbers to its share of each allowance, so its main account and siblings keep the rest", async () => {
    const l = limiter();
    const sub = { accountId: 'MA1', subaccountId: 'SA1' };
    const sibling = { accountId: 'MA1', subaccountId: 'SA2' };
    // Half the burst of 5, rounded down: 2 starts; and half of the follow-ups' 80.
    expect(await spend(l, sub, 'start', 20)).toBe(2);
    expect(l.refusing(sub, 'start')).toBe(true);
    expect(l.refusing(MA1, 'start')).toBe(false);
    const refusal = await l.take(sub, 'start').catch((err: unknown) => err);
    expect(refusal).toMatchObject({
      code: ErrorCodes.RATE_LIMITED,
      message: expect.stringContaining("this subaccount's numbers (SUBACCOUNT_RATE_LIMIT_PERCENT"),
    });
    expect(await spend(l, sub, 'follow-up', 100)).toBe((5 * FOLLOW_UPS_PER_START) / 2);
    // What the subaccount took counts to the account's: its sibling and the account share the 3 left.
    expect(await spend(l, sibling, 'start', 1)).toBe(1);
    expect(await spend(l, MA1, 'start', 20)).toBe(2);
    const parentRefusal = await l.take(sibling, 'start').catch((err: unknown) => err);
    expect(parentRefusal).toMatchObject({
      message: expect.stringContaining(
        "the main account's numbers, with its subaccounts', take 2 per second",
      ),
    });
    // Another subaccount, of another account: a share of its own.
    expect(await spend(l, { accountId: 'MA2', subaccountId: 'SA3' }, 'start', 20)).toBe(2);
  });

  it('tells its refusal from any other failure', () => {
    expect(InboundWebhookLimiter.refused(new Error('KV away'))).toBe(false);
  });
});
