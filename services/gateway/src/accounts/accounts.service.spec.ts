import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { EventPublisher } from '@maskline/messaging';
import { testGatewayConfig } from '../config/gateway-config.test-fixture';
import { AccountCredentials } from './account-credentials';
import type { AccountRepository } from './account.repository';
import type { Account } from './account.schema';
import { AccountsService } from './accounts.service';

/**
 * Whether an Auth ID exists must not show in how it is answered: an unknown Auth ID gets the same
 * work (one store read, then the cache; one digest; one constant-time comparison) as a known one
 * with a wrong token.
 */
describe('authentication does the same work whether or not the Auth ID exists', () => {
  const config = testGatewayConfig();
  const credentials = new AccountCredentials(config);
  const known = 'MAKNOWN0000000000001';
  const unknown = 'MAUNKNOWN00000000002';
  const account: Account = {
    _id: known,
    kind: 'main',
    accountId: known,
    name: 'known',
    enabled: true,
    tokenDigest: credentials.digest(known, 'the-right-token'),
    tokenEncrypted: credentials.encrypt(known, 'the-right-token'),
    createdAt: new Date(),
    updatedAt: new Date(),
  };

  function instrumented(held?: Promise<void>) {
    const reads: string[] = [];
    const repository = {
      findForAuthentication: async (authId: string) => {
        reads.push(authId);
        await held;
        return authId === known ? account : null;
      },
    } as unknown as AccountRepository;
    const digests: string[] = [];
    const counting = Object.create(credentials) as AccountCredentials;
    counting.digest = (authId: string, token: string) => {
      digests.push(authId);
      return credentials.digest(authId, token);
    };
    const service = new AccountsService(
      repository,
      counting,
      {} as EventPublisher,
      {} as NatsConnection,
      config,
      {} as Logger,
    );
    digests.length = 0; // the decoy, made once at start
    return { service, reads, digests };
  }

  it('reads the store once and then answers from the cache, for a known and an unknown Auth ID alike', async () => {
    for (const authId of [known, unknown]) {
      const { service, reads, digests } = instrumented();
      for (let i = 0; i < 3; i++) {
        await expect(service.authenticate(authId, 'a-wrong-token')).rejects.toMatchObject({
          code: 'AUTH.FAILED',
          message: 'authentication failed: Auth ID or Auth Token is incorrect',
        });
      }
      expect([authId, reads]).toEqual([authId, [authId]]);
      expect([authId, digests]).toEqual([authId, [authId, authId, authId]]);
    }
  });

  it('reads the store for at most 16 uncached Auth IDs at a time, whatever a flood of made-up ones asks', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { service, reads } = instrumented(held);
    const mine = service.authenticate(known, 'the-right-token');
    const flood = Array.from({ length: 40 }, (_, i) =>
      service.authenticate(`MAFLOOD${String(i).padStart(13, '0')}`, 'a-guess').catch((err: unknown) => err),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(reads).toHaveLength(16);
    release();
    await expect(mine).resolves.toMatchObject({ authId: known });
    const answers = await Promise.all(flood);
    expect(answers.every((e) => (e as { code?: string }).code === 'AUTH.FAILED')).toBe(true);
    expect(reads).toHaveLength(41);
  });

  it('does not hold back the reads an authenticated request needs while a flood holds every turn', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { service, reads } = instrumented(held);
    const flood = Array.from({ length: 40 }, (_, i) =>
      service.authenticate(`MAFLOOD${String(i).padStart(13, '0')}`, 'a-guess').catch((err: unknown) => err),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(reads).toHaveLength(16);
    // A request naming the account, not yet authenticated, waits its turn behind the flood…
    const unauthenticated = service.authenticate(known, 'a-guess').catch((err: unknown) => err);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(reads).toHaveLength(16);
    // …and a key's account, a console session's, is read at once beside it, not behind it.
    const principal = service.principalOf(known);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(reads).toHaveLength(17);
    expect(reads[16]).toBe(known);
    release();
    await expect(principal).resolves.toMatchObject({ authId: known });
    await Promise.all([...flood, unauthenticated]);
  });

  it('still lets the right token in, and an account created after a miss is found', async () => {
    const { service } = instrumented();
    await expect(service.authenticate(known, 'the-right-token')).resolves.toMatchObject({ authId: known });
  });
});
