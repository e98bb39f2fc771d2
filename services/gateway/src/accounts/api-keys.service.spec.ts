import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { EventPublisher } from '@maskline/messaging';
import { testGatewayConfig } from '../config/gateway-config.test-fixture';
import { AccountCredentials } from './account-credentials';
import type { AccountsService } from './accounts.service';
import type { ApiKeyRepository } from './api-key.repository';
import { ApiKeysService } from './api-keys.service';

describe('API key authentication', () => {
  const config = testGatewayConfig();

  it('reads the store for at most 16 uncached SIDs at a time, whatever a flood of made-up ones asks', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const reads: string[] = [];
    const repository = {
      findForAuthentication: async (sid: string) => {
        reads.push(sid);
        await held;
        return null;
      },
    } as unknown as ApiKeyRepository;
    const keys = new ApiKeysService(
      repository,
      new AccountCredentials(config),
      {} as AccountsService,
      {} as EventPublisher,
      {} as NatsConnection,
      config,
      {} as Logger,
    );
    const flood = Array.from({ length: 40 }, (_, i) =>
      keys.authenticate(`SK${i.toString(16).padStart(32, '0')}`, 's'.repeat(32)).catch((err: unknown) => err),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(reads).toHaveLength(16);
    release();
    const answers = await Promise.all(flood);
    expect(answers.every((e) => (e as { code?: string }).code === 'AUTH.FAILED')).toBe(true);
    expect(reads).toHaveLength(40);
  });
});
