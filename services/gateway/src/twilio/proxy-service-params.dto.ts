import { proxyServiceFieldEntries, type ProxyServiceFieldKey } from '@maskline/contracts';
import { declareField } from '../http/declare-field';

/**
 * A Service's parameters as Twilio's API names them (`UniqueName`, `DefaultTtl`, …), declared from
 * `PROXY_SERVICE_FIELDS` by the same means as Plivo's: validation that names the parameter, and the
 * OpenAPI entry. An empty value clears a URL or an optional text.
 */
export class ProxyServiceParamsDto {
  [param: string]: unknown;
}

for (const [, field] of proxyServiceFieldEntries) {
  declareField(ProxyServiceParamsDto, field.param, field.kind, {
    description: field.required ? `${field.description} (required at create)` : field.description,
    default: field.default ?? undefined,
    emptyClears: !field.required && (field.kind.type === 'url' || field.kind.type === 'text'),
  });
}

/** The settings a request gives, keyed as the contract keys them ("" → null: cleared). */
export function proxyServiceSettingsOf(
  body: ProxyServiceParamsDto,
): Partial<Record<ProxyServiceFieldKey, unknown>> {
  const settings: Partial<Record<ProxyServiceFieldKey, unknown>> = {};
  for (const [key, field] of proxyServiceFieldEntries) {
    const value = body[field.param];
    if (value !== undefined) settings[key] = value === '' ? null : value;
  }
  return settings;
}
