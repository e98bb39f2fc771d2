import type { TelephonyProvider } from '../number-pool/virtual-number.schema';

/**
 * The longest text each provider sends as one message, in characters: Twilio refuses a body over
 * 1,600; Plivo splits a long text into parts and takes up to 1,600 characters as well. A longer
 * text is refused with a failure event, never cut.
 */
export const PROVIDER_TEXT_MAX: Record<TelephonyProvider, number> = { plivo: 1600, twilio: 1600 };

/** GSM 03.38's basic set and, counting twice, its extension table. */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

/** Characters as a person counts them (Unicode code points: an emoji is one). */
export function characterCount(text: string): number {
  return [...text].length;
}

/**
 * The SMS segments a text is carried in: GSM-7 when every character is in the GSM set (160 in one,
 * 153 per part), UCS-2 otherwise (70 in one, 67 per part, counted in UTF-16 units, so an emoji
 * takes two). An empty text (a picture alone) is one.
 */
export function segmentCount(text: string): number {
  if (text.length === 0) return 1;
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (BASIC.has(ch)) septets += 1;
    else if (EXTENDED.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  const units = text.length;
  return units <= 70 ? 1 : Math.ceil(units / 67);
}
