import type { VirtualNumber } from '@maskline/contracts';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { numberFieldsView } from './number-fields.mapper';

/**
 * Plivo's Number object, plus `country`, `provider`, whether webhook credentials are set, the
 * no-session destinations, and its Twilio Proxy Service and reservation.
 */
export function plivoNumberView(n: VirtualNumber) {
  const digits = toPlivoNumber(n.number);
  return {
    added_on: n.addedOn.slice(0, 10),
    application: null,
    monthly_rental_rate: '0.00000',
    number: digits,
    resource_uri: `/v1/Account/${n.subaccountId ?? n.accountId}/Number/${digits}/`,
    sms_rate: '0.00000',
    sub_account: n.subaccountId,
    voice_rate: '0.00000',
    country: n.country,
    webhook_credentials_set: n.hasProviderCredentials,
    // Its Twilio Proxy Service, if any; a reserved number is given only to sessions that name it.
    proxy_service_sid: n.proxyServiceSid,
    is_reserved: n.isReserved,
    ...numberFieldsView(n),
  };
}

/** A number from a URL: `14155550100`, `+14155550100` or `%2B14155550100`. */
export function numberFromPath(raw: string): string {
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Already decoded, or not a number at all (a stray `%`): checked as it is, where it is used.
  }
  const trimmed = decoded.trim();
  return trimmed.startsWith('+') ? trimmed : `+${trimmed}`;
}
