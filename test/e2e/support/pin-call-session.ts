import { TelephonySimulator, type CallReport } from '@maskline/telephony-simulator';
import type { TestAccount } from './accounts';
import type { ProviderAccount } from './provider-accounts';

type Json = Record<string, unknown>;

/**
 * A PIN session between `first` and `second` (callbacks to `callbackUrl`), then a call to its number
 * from `spare`, a phone not in the session, typing a wrong PIN and then the first party's: the call
 * reaches the second party. What a support agent later looks up in the console.
 */
export async function sessionWithPinCall(
  baseUrl: string,
  account: TestAccount,
  provider: ProviderAccount,
  parties: { first: string; second: string; spare: string; callbackUrl: string },
): Promise<{ session: Json; pin: string; wrong: string; report: CallReport }> {
  const res = await account.api('/Masking/Session/', {
    body: {
      first_party: parties.first,
      second_party: parties.second,
      is_pin_authentication_required: true,
      generate_pin: true,
      generate_pin_length: 6,
      callback_url: parties.callbackUrl,
    },
  });
  if (res.status !== 201) throw new Error(`session creation failed: ${res.status} ${await res.text()}`);
  const session = (await res.json()) as Json;
  const pin = String((session.session as Json).first_party_pin);
  const wrong = pin === '000000' ? '000001' : '000000';
  const report = await new TelephonySimulator(baseUrl, 'plivo', provider).call({
    from: parties.spare,
    to: `+${String(session.virtual_number).replace(/^\+/, '')}`,
    digits: [wrong, pin],
    callee: { answers: true, talkSeconds: 12 },
  });
  return { session, pin, wrong, report };
}
