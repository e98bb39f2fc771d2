import pino from 'pino';
import { connect, type NatsConnection } from 'nats';
import { startTestNats, type RunningProcess } from '@maskline/testing';
import { AccountPrivacy } from './account-privacy';
import { KeyValueStores } from './key-value-stores';
import type { MessagingOptions } from './messaging.options';

describe('accounts that keep their parties’ numbers (real NATS KV)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let privacy: AccountPrivacy;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    privacy = new AccountPrivacy(
      new KeyValueStores(
        nc,
        { service: 'gateway', servers: nats.url } as MessagingOptions,
        pino({ level: 'silent' }),
      ),
    );
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('lists every account that keeps them, and none that stopped', async () => {
    const keepers = ['MAKEEPER000000000001', 'MAKEEPER000000000002', 'MAKEEPER000000000003'];
    for (const account of [...keepers, 'MASTOPPED00000000001']) await privacy.setKeepNumbers(account, true);
    await privacy.setKeepNumbers('MASTOPPED00000000001', false);

    expect((await privacy.accountsKeepingNumbers()).sort()).toEqual(keepers);
    for (const account of keepers) expect(await privacy.keepsNumbers(account)).toBe(true);
    expect(await privacy.keepsNumbers('MASTOPPED00000000001')).toBe(false);
  });
});
