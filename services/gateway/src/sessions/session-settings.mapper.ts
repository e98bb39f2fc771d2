import { urlsMasklineCalls } from './callback-url-checker';
import {
  DEFAULT_SESSION_SETTINGS,
  sessionFieldEntries,
  type SessionSettings,
  type UpdatableSettingKey,
} from '@maskline/contracts';

/** The value a body gives a field, under its Plivo name or an alias (`null` counts as given). */
const given = (body: Record<string, unknown>, names: readonly string[]) =>
  names.map((n) => body[n]).find((v) => v !== undefined);

/**
 * Every setting of a new session: what the body gives (under any of its names), else the table's
 * default. On create, `null` is "not given" (JSON clients send it for "use the default", as
 * Plivo's SDKs may): `{"record": null}` is `record` left out.
 */
export function settingsFromCreate(body: Record<string, unknown>): SessionSettings {
  const settings: Record<string, unknown> = { ...DEFAULT_SESSION_SETTINGS };
  for (const [key, field] of sessionFieldEntries) {
    const value = [field.plivo, ...(field.aliases ?? [])]
      .map((n) => body[n])
      .find((v) => v !== undefined && v !== null);
    if (value !== undefined) settings[key] = value;
  }
  return settings as SessionSettings;
}

/** The updatable settings an update body changes (the validation has refused the others). */
export function changesFromUpdate(
  body: Record<string, unknown>,
): Partial<Pick<SessionSettings, UpdatableSettingKey>> {
  const changes: Record<string, unknown> = {};
  for (const [key, field] of sessionFieldEntries) {
    if (!field.updatable) continue;
    const value = given(body, [field.plivo, ...(field.aliases ?? [])]);
    if (value !== undefined) changes[key] = value;
  }
  return changes as Partial<Pick<SessionSettings, UpdatableSettingKey>>;
}

/** The URLs Maskline itself will request (callbacks), by their Plivo names: what the SSRF check looks at. */
export function callbackUrlsOf(
  settings: Partial<SessionSettings>,
): Record<string, string | null | undefined> {
  return urlsMasklineCalls(sessionFieldEntries, settings, (field) => String(field.plivo));
}
