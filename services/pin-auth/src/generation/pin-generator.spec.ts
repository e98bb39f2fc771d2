import { generatePin, isTriviallyGuessable } from './pin-generator';

describe('PIN generation', () => {
  it.each([
    '0000',
    '7777',
    '1234',
    '4567',
    '7890',
    '9876',
    '3210',
    '0987',
    '1212',
    '9090',
    '123456789012345',
  ])('treats %s as trivially guessable', (pin) => expect(isTriviallyGuessable(pin)).toBe(true));

  it.each(['4829', '1357', '0419', '123457', '9081726354'])('accepts %s', (pin) => {
    expect(isTriviallyGuessable(pin)).toBe(false);
  });

  it('makes PINs of the asked length, digits only, never trivial, never the ones to avoid', () => {
    const avoid = new Set(['4829']);
    for (let i = 0; i < 2000; i++) {
      const pin = generatePin(4, avoid);
      expect(pin).toMatch(/^\d{4}$/);
      expect(isTriviallyGuessable(pin)).toBe(false);
      expect(pin).not.toBe('4829');
    }
    expect(generatePin(15)).toMatch(/^\d{15}$/);
  });

  it('spreads over the PIN space (no visible bias)', () => {
    const firstDigit = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) firstDigit[Number(generatePin(6)[0])]++;
    for (const count of firstDigit) expect(count).toBeGreaterThan(1700);
  });
});
