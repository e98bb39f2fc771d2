import type { Logger } from 'pino';
import type { PinAuthConfig } from '../config/pin-auth.config';
import type { LivePinRegistryStore } from '../registration/live-pin-registry.store';
import type { MongoPinRegistryStore } from '../registration/mongo-pin-registry.store';
import type { PinThrottle } from '../throttling/pin-throttle';
import { PinReaper } from './pin-reaper';

describe('the PIN reaper', () => {
  it('runs every step though one fails, then fails the run', async () => {
    const did: string[] = [];
    const reaper = new PinReaper(
      {
        purgeRetiredSystemWide: async () => {
          did.push('retired');
          throw new Error('the store is busy');
        },
      } as unknown as MongoPinRegistryStore,
      {
        retireStrays: async () => void did.push('strays'),
        purgeOldReleases: async () => (did.push('releases'), false),
      } as unknown as LivePinRegistryStore,
      { purge: async () => (did.push('lockouts'), 0) } as unknown as PinThrottle,
      { REAPER_INTERVAL_MS: 60_000, RETIRED_RETENTION_MS: 3_600_000 } as PinAuthConfig,
      { warn: () => undefined, debug: () => undefined, info: () => undefined } as unknown as Logger,
    );
    const run = () => (reaper as unknown as { runOnce(): Promise<void> }).runOnce();
    for (let i = 1; i <= 5; i++) await expect(run()).rejects.toThrow('the store is busy');
    expect(did.filter((d) => d === 'lockouts')).toHaveLength(5);
    expect(did.filter((d) => d === 'releases')).toHaveLength(5);
    expect(did.filter((d) => d === 'strays')).toHaveLength(1);
  });
});
