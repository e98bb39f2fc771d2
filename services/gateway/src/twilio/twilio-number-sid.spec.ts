import { numberOfSid, numberSidOf } from './twilio-number-sid';

describe('Twilio PhoneNumber SIDs of Maskline numbers', () => {
  it('are PN and 32 lowercase hex digits, one per number, and lead back to it', () => {
    for (const n of ['+14155550100', '+442071838750', '+861012345678901', '+1234567']) {
      const sid = numberSidOf(n);
      expect(sid).toMatch(/^PN[0-9a-f]{32}$/);
      expect(numberOfSid(sid)).toBe(n);
    }
  });

  it('name no number when made up or malformed', () => {
    expect(numberOfSid(`PN${'f'.repeat(32)}`)).toBeNull();
    expect(numberOfSid('PN123')).toBeNull();
    expect(numberOfSid(`KS${'0'.repeat(32)}`)).toBeNull();
    expect(() => numberSidOf('14155550100')).toThrow();
  });
});
