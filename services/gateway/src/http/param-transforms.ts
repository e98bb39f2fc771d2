/**
 * Plivo accepts JSON and form bodies; a form sends every value as a string. These turn the
 * string forms into the JSON types and leave anything else for the validator to reject.
 */
export function toBoolean(value: unknown): unknown {
  if (value === 'true' || value === 'True' || value === '1') return true;
  if (value === 'false' || value === 'False' || value === '0') return false;
  return value;
}

export function toInteger(value: unknown): unknown {
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return value;
}

export function toTrimmedString(value: unknown): unknown {
  return typeof value === 'string' ? value.trim() : value;
}
