import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { packE164, packTime, packUuid, unpackE164, unpackTime, unpackUuid } from './packed-values';

describe('packed values come back exactly as they went in', () => {
  it('E.164 numbers, and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^[0-9]{0,14}$/), (first, rest) => {
        const number = `+${first}${rest}`;
        const packed = packE164(number);
        expect(packed).toBeDefined();
        expect(unpackE164(packed as number)).toBe(number);
      }),
    );
    for (const other of [
      '',
      '+',
      '+0123',
      '14155550100',
      '+1415555010a',
      '+1234567890123456',
      'redacted:0123',
    ]) {
      expect(packE164(other)).toBeUndefined();
    }
  });

  it('times as toISOString writes them, read as Date.parse reads them', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (date) => {
          const text = date.toISOString();
          expect(packTime(text)).toBe(Date.parse(text));
          expect(unpackTime(packTime(text) as number)).toBe(text);
        },
      ),
    );
  });

  it('leaves times in any other form to be kept as written', () => {
    for (const other of [
      '2026-11-28T12:00:00Z',
      '2026-11-28T12:00:00.000+00:00',
      '2026-02-29T12:00:00.000Z', // not a leap year
      '2026-11-28T24:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '2026-11-28 12:00:00.000Z',
    ]) {
      expect(packTime(other)).toBeUndefined();
    }
    expect(packTime('2028-02-29T12:00:00.000Z')).toBe(Date.parse('2028-02-29T12:00:00.000Z'));
  });

  it('UUIDs in lower case, and not others', () => {
    const words = new Int32Array(4);
    for (let i = 0; i < 200; i++) {
      const id = randomUUID();
      expect(packUuid(id, words, 0)).toBe(true);
      expect(unpackUuid(words, 0)).toBe(id);
    }
    for (const other of [
      'ABCDEF01-2345-4678-9ABC-DEF012345678',
      '0000000000004000800000000000000001',
      'x'.repeat(36),
    ]) {
      expect(packUuid(other, words, 0)).toBe(false);
    }
  });
});
