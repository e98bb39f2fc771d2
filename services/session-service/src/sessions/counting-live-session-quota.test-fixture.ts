import { CodedError, SessionErrorCodes } from '@maskline/contracts';
import type { LiveSessionOwner, LiveSessionQuota } from './live-session-quota';

/**
 * `LiveSessionQuota` for unit tests: live sessions counted in memory, by main account (bounded by
 * `limit`) and, apart, by subaccount (`live` keyed by either id).
 */
export function countingLiveSessionQuota(limit = Number.POSITIVE_INFINITY) {
  const live = new Map<string, number>();
  const keysOf = ({ accountId, subaccountId }: LiveSessionOwner) =>
    subaccountId ? [accountId, subaccountId] : [accountId];
  const quota = {
    take: async (owner: LiveSessionOwner) => {
      if ((live.get(owner.accountId) ?? 0) >= limit) {
        throw new CodedError(SessionErrorCodes.LIVE_SESSIONS_LIMIT, 'at the bound');
      }
      for (const key of keysOf(owner)) live.set(key, (live.get(key) ?? 0) + 1);
    },
    giveBack: async (owner: LiveSessionOwner) => {
      for (const key of keysOf(owner)) live.set(key, Math.max(0, (live.get(key) ?? 0) - 1));
    },
  };
  return { quota: quota as unknown as LiveSessionQuota, live };
}
