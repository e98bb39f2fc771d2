import { CodedError, SessionErrorCodes } from '@maskline/contracts';
import type { LiveSessionOwner, LiveSessionQuota } from './live-session-quota';

/** `LiveSessionQuota` for unit tests: each account's live sessions counted in memory, bounded by `limit`. */
export function countingLiveSessionQuota(limit = Number.POSITIVE_INFINITY) {
  const live = new Map<string, number>();
  const quota = {
    take: async ({ accountId }: LiveSessionOwner) => {
      const n = live.get(accountId) ?? 0;
      if (n >= limit) throw new CodedError(SessionErrorCodes.LIVE_SESSIONS_LIMIT, 'at the bound');
      live.set(accountId, n + 1);
    },
    giveBack: async ({ accountId }: LiveSessionOwner) =>
      void live.set(accountId, Math.max(0, (live.get(accountId) ?? 0) - 1)),
  };
  return { quota: quota as unknown as LiveSessionQuota, live };
}
