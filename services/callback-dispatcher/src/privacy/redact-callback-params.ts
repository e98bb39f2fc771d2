import { isRedactedParty } from '@maskline/contracts';
import { fromPlivoNumber } from '@maskline/plivo-wire';

/** The callback parameters that name a party (the caller or the called), never the virtual number. */
const PARTY_PARAMS = ['From', 'To'] as const;

/**
 * A callback's parameters with each party's number replaced by `redact(number)`. The virtual number
 * is the business's, not a party's: it stays, wherever it appears.
 */
export function redactCallbackParams(
  params: Record<string, string>,
  redact: (e164: string) => string,
): Record<string, string> {
  const out = { ...params };
  for (const key of PARTY_PARAMS) {
    const value = params[key];
    if (!value || value === params.VirtualNumber || isRedactedParty(value)) continue;
    out[key] = redact(fromPlivoNumber(value) ?? value);
  }
  return out;
}
