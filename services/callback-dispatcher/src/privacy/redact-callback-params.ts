import { isRedactedParty } from '@maskline/contracts';
import { fromPlivoNumber } from '@maskline/plivo-wire';

/** The callback parameters that name a party (the caller or the called), never the virtual number. */
const PARTY_PARAMS = ['From', 'To'] as const;
/**
 * The parameters that lead to the call's audio (a provider may serve a recording to whoever holds
 * its URL, as it may a message's media): removed with the parties' numbers.
 */
export const RECORDING_PARAMS = ['RecordingURL', 'RecordingResourceURL'] as const;
/** What a recording's URL reads once redacted. */
export const REDACTED_RECORDING_URL = '';

/**
 * A callback's parameters with each party's number replaced by `redact(number)`, and the recording's
 * URLs removed. The virtual number is the business's, not a party's: it stays, wherever it appears.
 */
export function redactCallbackParams(
  params: Record<string, string>,
  redact: (e164: string) => string,
): Record<string, string> {
  const out = { ...params };
  for (const key of RECORDING_PARAMS) if (params[key]) out[key] = REDACTED_RECORDING_URL;
  for (const key of PARTY_PARAMS) {
    const value = params[key];
    if (!value || value === params.VirtualNumber || isRedactedParty(value)) continue;
    out[key] = redact(fromPlivoNumber(value) ?? value);
  }
  return out;
}
