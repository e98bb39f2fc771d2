import { GetCallbackSigningToken } from '@maskline/contracts';
import { InvalidatedCache } from './invalidated-cache';
import type { RpcClient } from './rpc-client';

/** How long a replica keeps an account's signing token (a rotated token applies within this). */
const TOKEN_TTL_MS = 60_000;

/**
 * The Auth Token an account's (or subaccount's) outbound requests are signed with: Plivo-style and
 * Twilio-style callbacks, a Proxy Service's intercept and out-of-session calls. Asked of the
 * accounts' owner and kept briefly per replica, in a bounded cache.
 */
export class SigningTokens {
  private readonly cache = new InvalidatedCache<string, string>({ ttlMs: TOKEN_TTL_MS, maxEntries: 10_000 });

  constructor(private readonly rpc: RpcClient) {}

  of(accountId: string, subaccountId: string | null): Promise<string> {
    return this.cache.get(subaccountId ?? accountId, async () => {
      const { authToken } = await this.rpc.request(GetCallbackSigningToken, {
        accountId,
        subaccountId: subaccountId ?? undefined,
      });
      return authToken;
    });
  }
}
