import { numberFieldEntries, type NumberFieldKey, type NumberFieldValues } from '@maskline/contracts';

/** The settings of numbers being added: what the body gives, else the table's default (null: unset). */
export function numberFieldsFromAdd(body: Record<string, unknown>): Partial<NumberFieldValues> {
  const fields: Record<string, unknown> = {};
  for (const [key, field] of numberFieldEntries) {
    if (!field.onAdd) continue;
    const value = body[field.plivo] ?? field.default;
    if (value !== null) fields[key] = value;
  }
  return fields as Partial<NumberFieldValues>;
}

/** What an update body changes; "" (or null) clears a field that can be cleared (null on the wire). */
export function numberChangesFromUpdate(body: Record<string, unknown>): Partial<NumberFieldValues> {
  const changes: Record<string, unknown> = {};
  for (const [key, field] of numberFieldEntries) {
    const value = body[field.plivo];
    if (!field.onUpdate || value === undefined) continue;
    changes[key] = (value === '' || value === null) && field.onUpdate === 'set-or-clear' ? null : value;
  }
  return changes as Partial<NumberFieldValues>;
}

/** The number settings Plivo's Number object shows, by their Plivo names. */
export function numberFieldsView(values: Partial<Record<NumberFieldKey, unknown>>): Record<string, unknown> {
  return Object.fromEntries(numberFieldEntries.map(([key, field]) => [field.plivo, values[key] ?? null]));
}
