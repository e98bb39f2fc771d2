/**
 * A session's id, phone numbers and times as plain numbers (in a typed array instead of a string
 * each), for the values that come back exactly as they went in; anything else is kept as
 * written, beside. Reading and writing them back is done here digit by digit: `toISOString`
 * and number-to-string cost several times more, and a read writes back every session on a number.
 */

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const PAD4 = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, '0'));

/**
 * An E.164 number as the integer of its digits (at most 15: exact in a double). The leading digit
 * is never 0, so `+` and the integer's decimal digits give the string back.
 */
export function packE164(value: string): number | undefined {
  if (value.length < 2 || value.length > 16 || value.charCodeAt(0) !== 43) return undefined; // +
  let packed = 0;
  for (let i = 1; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9 || (i === 1 && digit === 0)) return undefined;
    packed = packed * 10 + digit;
  }
  return packed;
}

export function unpackE164(packed: number): string {
  const a = Math.floor(packed / 1e12);
  let rest = packed - a * 1e12;
  const b = Math.floor(rest / 1e8);
  rest -= b * 1e8;
  const c = Math.floor(rest / 1e4);
  const d = rest - c * 1e4;
  if (a > 0) return `+${a}${PAD4[b]}${PAD4[c]}${PAD4[d]}`;
  if (b > 0) return `+${b}${PAD4[c]}${PAD4[d]}`;
  if (c > 0) return `+${c}${PAD4[d]}`;
  return `+${d}`;
}

const DAY_MS = 86_400_000;

/**
 * Epoch ms of a time written exactly as `toISOString` writes it (`2026-11-28T12:00:00.000Z`,
 * a real date, years 1970 to 9999), which `unpackTime` writes back the same; undefined for any
 * other form (an offset, no milliseconds), which the caller keeps as written.
 */
export function packTime(text: string): number | undefined {
  if (
    text.length !== 24 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 46 || // .
    text.charCodeAt(23) !== 90 // Z
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const ms = digits(text, 20, 3);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) {
    return undefined;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** A time packTime read, written as `toISOString` writes it. */
export function unpackTime(epochMs: number): string {
  const days = Math.floor(epochMs / DAY_MS);
  let rest = epochMs - days * DAY_MS;
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const ms = rest - second * 1000;
  return `${PAD4[year]}-${PAD2[month]}-${PAD2[day]}T${PAD2[hour]}:${PAD2[minute]}:${PAD2[second]}.${PAD3[ms]}Z`;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Where each of a UUID's 32 hex digits is in its text. */
const UUID_DIGIT_AT = [...Array(36).keys()].filter((i) => i !== 8 && i !== 13 && i !== 18 && i !== 23);

/**
 * A UUID in lower case (as session-service writes them) as four 32-bit words, written into
 * `words` at `at`; false, and nothing written, for any other text.
 */
export function packUuid(text: string, words: Int32Array, at: number): boolean {
  if (
    text.length !== 36 ||
    text.charCodeAt(8) !== 45 ||
    text.charCodeAt(13) !== 45 ||
    text.charCodeAt(18) !== 45 ||
    text.charCodeAt(23) !== 45
  ) {
    return false;
  }
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (let i = 0; i < 32; i++) {
    const code = text.charCodeAt(UUID_DIGIT_AT[i]);
    const digit = code < 128 ? HEX_VALUE[code] : -1;
    if (digit < 0) return false;
    if (i < 8) a = (a << 4) | digit;
    else if (i < 16) b = (b << 4) | digit;
    else if (i < 24) c = (c << 4) | digit;
    else d = (d << 4) | digit;
  }
  words[at] = a;
  words[at + 1] = b;
  words[at + 2] = c;
  words[at + 3] = d;
  return true;
}

export function unpackUuid(words: Int32Array, at: number): string {
  const a = words[at];
  const b = words[at + 1];
  const c = words[at + 2];
  const d = words[at + 3];
  return (
    `${HEX2[(a >>> 24) & 255]}${HEX2[(a >>> 16) & 255]}${HEX2[(a >>> 8) & 255]}${HEX2[a & 255]}-` +
    `${HEX2[(b >>> 24) & 255]}${HEX2[(b >>> 16) & 255]}-${HEX2[(b >>> 8) & 255]}${HEX2[b & 255]}-` +
    `${HEX2[(c >>> 24) & 255]}${HEX2[(c >>> 16) & 255]}-${HEX2[(c >>> 8) & 255]}${HEX2[c & 255]}` +
    `${HEX2[(d >>> 24) & 255]}${HEX2[(d >>> 16) & 255]}${HEX2[(d >>> 8) & 255]}${HEX2[d & 255]}`
  );
}

/** A 32-bit hash of a string (FNV-1a), for numbers that are not E.164 and so not packed. */
export function stringHash(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The decimal number in text[from, from + count), or -1 if any of it is not a digit. */
function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}
