import type { VirtualNumber } from '@maskline/contracts';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { numberFieldsView } from './number-fields.mapper';

/** Plivo's Number object, plus `country`, `provider`, whether webhook credentials are set, and the no-session destination. */
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
    ...numberFieldsView(n),
  };
}

/** A number from a URL: `14155550100`, `+14155550100` or `%2B14155550100`. */
export function numberFromPath(raw: string): string {
  const trimmed = decodeURIComponent(raw).trim();
  return trimmed.startsWith('+') ? trimmed : `+${trimmed}`;
}
