import { PROVIDER_ACCOUNT_ID_RULE, type TelephonyProvider } from '@maskline/contracts';
import { toPlivoNumber } from '@maskline/plivo-wire';
import type { TenantBreaker } from '@maskline/resilience';

/** Where the providers' REST APIs are (`providerApiConfigShape` in the config lib). */
export interface ProviderApiBaseUrls {
  PLIVO_API_BASE_URL: string;
  TWILIO_API_BASE_URL: string;
}

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
  config: ProviderApiBaseUrls,
  provider: TelephonyProvider,
  providerAccountId: string,
  resource: ProviderResource,
): string {
  return `${accountUrl(config, provider, providerAccountId)}/${PATHS[provider][resource]}`;
}

/**
 * Where the provider says whether the account holds a number (E.164): Plivo's
 * `GET /v1/Account/{auth_id}/Number/{number}/` (404 when not), Twilio's
 * `GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber=+…` (a list, which Twilio
 * also fills with partial matches: read it for the number itself).
 */
export function providerNumberUrl(
  config: ProviderApiBaseUrls,
  provider: TelephonyProvider,
  providerAccountId: string,
  e164: string,
): string {
  const account = accountUrl(config, provider, providerAccountId);
  return provider === 'plivo'
    ? `${account}/Number/${encodeURIComponent(toPlivoNumber(e164))}/`
    : `${account}/IncomingPhoneNumbers.json?${new URLSearchParams({ PhoneNumber: e164 }).toString()}`;
}

/** The provider account's own part of the API, checked to be one path segment. */
function accountUrl(config: ProviderApiBaseUrls, provider: TelephonyProvider, providerAccountId: string) {
  if (!PROVIDER_ACCOUNT_ID_RULE.pattern.test(providerAccountId)) {
    throw new Error(`a provider account id ${PROVIDER_ACCOUNT_ID_RULE.says}`);
  }
  return provider === 'plivo'
    ? `${config.PLIVO_API_BASE_URL.replace(/\/$/, '')}/v1/Account/${providerAccountId}`
    : `${config.TWILIO_API_BASE_URL.replace(/\/$/, '')}/2010-04-01/Accounts/${providerAccountId}`;
}

/** HTTP Basic authorization with the provider account's id and token, as both providers take it. */
export function providerAuthorization(credentials: { accountId: string; authToken: string }): string {
  return `Basic ${Buffer.from(`${credentials.accountId}:${credentials.authToken}`).toString('base64')}`;
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
