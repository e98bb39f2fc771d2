import { proxyServiceFieldEntries, type ProxyService, accountSidOf } from '@maskline/contracts';

/** Twilio's Service resource, its URLs on this Maskline (`PUBLIC_BASE_URL`). */
export function twilioServiceView(s: ProxyService, baseUrl: string) {
  const url = `${baseUrl}/v1/Services/${s.sid}`;
  return {
    sid: s.sid,
    account_sid: accountSidOf(s.subaccountId ?? s.accountId),
    ...Object.fromEntries(proxyServiceFieldEntries.map(([key, f]) => [f.json, s[key] ?? null])),
    date_created: twilioDate(s.createdAt),
    date_updated: twilioDate(s.updatedAt),
    url,
    links: {
      sessions: `${url}/Sessions`,
      phone_numbers: `${url}/PhoneNumbers`,
      short_codes: `${url}/ShortCodes`,
    },
  };
}

/** Where the Twilio API's own URLs (`url`, `links`, paging) point: this Maskline's public base URL. */
export function twilioApiBase(config: { PUBLIC_BASE_URL: string }): string {
  return config.PUBLIC_BASE_URL.replace(/\/$/, '');
}

/** Twilio's date-times: ISO 8601 in UTC, to the second. */
export function twilioDate(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}
