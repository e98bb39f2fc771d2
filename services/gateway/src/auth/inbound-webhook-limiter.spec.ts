import { ErrorCodes } from '@maskline/contracts';
import type { KeyValueStores } from '@maskline/messaging';
import type { GatewayConfig } from '../config/gateway.config';
import { FOLLOW_UPS_PER_START, InboundWebhookLimiter } from './inbound-webhook-limiter';

describe('InboundWebhookLimiter', () => {
  const config = { INBOUND_RATE_LIMIT_PER_SECOND: 2, INBOUND_RATE_LIMIT_BURST: 5 } as GatewayConfig;
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
    accountId: string,
    kind: 'start' | 'follow-up',
    n: number,
  ) => {
    let taken = 0;
    for (let i = 0; i < n; i++) {
      try {
        await l.take(accountId, kind);
        taken++;
      } catch (err) {
        expect(InboundWebhookLimiter.refused(err)).toBe(true);
      }
    }
    return taken;
  };

  it('holds an account to its burst of starts, and gives its follow-ups FOLLOW_UPS_PER_START times as many, apart', async () => {
    const l = limiter();
    expect(await spend(l, 'MA1', 'start', 20)).toBe(5);
    // The starts spent do not touch the follow-ups' allowance, nor another account's.
    expect(await spend(l, 'MA1', 'follow-up', 100)).toBe(5 * FOLLOW_UPS_PER_START);
    expect(await spend(l, 'MA2', 'start', 20)).toBe(5);
  });

  it('refuses with RATE_LIMITED, naming the limit, with a time to retry', async () => {
    const l = limiter();
    await spend(l, 'MA1', 'start', 5);
    const refusal = await l.take('MA1', 'start').catch((err: unknown) => err);
    expect(refusal).toMatchObject({
      code: ErrorCodes.RATE_LIMITED,
      message: expect.stringContaining('2 per second'),
      details: { retryAfterSeconds: expect.any(Number) },
    });
  });

  it('tells its refusal from any other failure', () => {
    expect(InboundWebhookLimiter.refused(new Error('KV away'))).toBe(false);
  });
});
