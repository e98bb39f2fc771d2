import { randomBytes } from 'node:crypto';
import type { Provider } from '@maskline/telephony-simulator';
import type { E2eSystem } from './e2e-system';
import { createAccount, type TestAccount } from './accounts';

/** A team's account at Plivo or Twilio, with the virtual numbers it brings to Maskline. */
export interface ProviderAccount {
  accountId: string;
  authToken: string;
  numbers: string[];
}

/** One provider account per dialect, fresh credentials each run, shaped as each provider's are. */
export function providerAccounts(numbers: Record<Provider, string[]>): Record<Provider, ProviderAccount> {
  return {
    plivo: {
      accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
      authToken: randomBytes(20).toString('hex'),
      numbers: numbers.plivo,
    },
    twilio: {
      accountId: `AC${randomBytes(16).toString('hex')}`,
      authToken: randomBytes(16).toString('hex'),
      numbers: numbers.twilio,
    },
  };
}

/** Adds numbers to a Maskline account, with the provider account's credentials: the API's answer. */
export function addNumbers(
  account: TestAccount,
  provider: Provider,
  providerAccount: Pick<ProviderAccount, 'accountId' | 'authToken'>,
  numbers: string[],
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return account.api('/Number/', {
    body: {
      numbers: numbers.join(','),
      provider,
      provider_auth_id: providerAccount.accountId,
      provider_auth_token: providerAccount.authToken,
      ...extra,
    },
  });
}

/** A Maskline account per dialect, each with that dialect's numbers and provider credentials. */
export async function accountsWithNumbers(
  system: E2eSystem,
  providers: Record<Provider, ProviderAccount>,
  name: string,
): Promise<Record<Provider, TestAccount>> {
  const accounts = {} as Record<Provider, TestAccount>;
  for (const provider of ['plivo', 'twilio'] as const) {
    const account = await createAccount(system, `${name}-${provider}`);
    const added = await addNumbers(account, provider, providers[provider], providers[provider].numbers);
    if (added.status !== 202) throw new Error(`adding ${provider} numbers: HTTP ${added.status}`);
    accounts[provider] = account;
  }
  return accounts;
}
