import { randomInt } from 'node:crypto';

/**
 * True for PINs a person (or an attacker) would try first: one digit repeated (`7777`), a straight
 * run up or down (`1234`, `9876`, `7890`), or two digits alternating (`1212`).
 */
export function isTriviallyGuessable(pin: string): boolean {
  if (/^(\d)\1+$/.test(pin)) return true;
  const digits = [...pin].map(Number);
  const steps = digits.slice(1).map((d, i) => (d - digits[i] + 10) % 10);
  if (steps.every((s) => s === 1) || steps.every((s) => s === 9)) return true;
  if (pin.length >= 4 && [...pin].every((c, i) => c === pin[i % 2])) return true;
  return false;
}

/** A PIN of `length` digits from the CSPRNG, never trivially guessable, never in `avoid`. */
export function generatePin(length: number, avoid: ReadonlySet<string> = new Set()): string {
  for (;;) {
    let pin = '';
    for (let i = 0; i < length; i++) pin += String(randomInt(10));
    if (!isTriviallyGuessable(pin) && !avoid.has(pin)) return pin;
  }
}
