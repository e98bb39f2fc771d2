import { PROVIDER_ACCOUNT_ID_RULE, type TelephonyProvider } from '@maskline/contracts';
import type { TenantBreaker } from '@maskline/resilience';
import type { CallRouterConfig } from '../config/call-router.config';

/** What Maskline asks of a provider's REST API: to place a call, or to send a message. */
export type ProviderResource = 'call' | 'message';

const PATHS: Record<TelephonyProvider, Record<ProviderResource, string>> = {
  plivo: { call: 'Call/', message: 'Message/' },
  twilio: { call: 'Calls.json', message: 'Messages.json' },
};

/**
 * The resource's URL under the provider account: Plivo `POST /v1/Account/{auth_id}/Call/` and
 * `/Message/`, Twilio `POST /2010-04-01/Accounts/{sid}/Calls.json` and `/Messages.json`, on the
 * configured base URL. The account id is a tenant's input, held to PROVIDER_ACCOUNT_ID_RULE where
 * it is taken and where it is read (number-pool gives none that breaks it): one path segment, never
 * `.` or `..`, so it never leads elsewhere on the provider's host. Checked here once more.
 */
export function providerApiUrl(
  config: Pick<CallRouterConfig, 'PLIVO_API_BASE_URL' | 'TWILIO_API_BASE_URL'>,
  provider: TelephonyProvider,
  providerAccountId: string,
  resource: ProviderResource,
): string {
  if (!PROVIDER_ACCOUNT_ID_RULE.pattern.test(providerAccountId)) {
    throw new Error(`a provider account id ${PROVIDER_ACCOUNT_ID_RULE.says}`);
  }
  const id = providerAccountId;
  return provider === 'plivo'
    ? `${config.PLIVO_API_BASE_URL.replace(/\/$/, '')}/v1/Account/${id}/${PATHS.plivo[resource]}`
    : `${config.TWILIO_API_BASE_URL.replace(/\/$/, '')}/2010-04-01/Accounts/${id}/${PATHS.twilio[resource]}`;
}

/**
 * The breaker (and compartment) a request to a provider's API goes through: one per Maskline
 * account and provider account, so a tenant whose provider account fails, or whose credentials aim
 * at a path that fails, opens its own breaker only, never another tenant's.
 */
export function providerAccountBreaker(request: {
  accountId: string;
  provider: TelephonyProvider;
  credentials: { accountId: string };
}): TenantBreaker {
  return {
    family: 'provider-account',
    key: `${request.accountId}:${request.provider}:${request.credentials.accountId}`,
  };
}
