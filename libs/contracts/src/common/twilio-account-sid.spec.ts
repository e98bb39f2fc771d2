import { accountSidOf, authIdOf } from './twilio-account-sid';

describe('Twilio Account SIDs of Maskline accounts', () => {
  it('are AC and 32 lowercase hex digits, one per Auth ID, and lead back to it', () => {
    for (const authId of [
      'MA000000000000000000',
      'MAZZZZZZZZZZZZZZZZZZ',
      'SAABCDEFGHIJ01234567',
      'MA0123456789ABCDEFGH',
    ]) {
      const sid = accountSidOf(authId);
      expect(sid).toMatch(/^AC[0-9a-f]{32}$/);
      expect(authIdOf(sid)).toBe(authId);
    }
    expect(accountSidOf('MAABCDEFGHIJ01234567')).not.toBe(accountSidOf('SAABCDEFGHIJ01234567'));
  });

  it('name no account when made up, malformed or out of range', () => {
    expect(authIdOf('AC' + 'f'.repeat(32))).toBeNull();
    expect(authIdOf('ACnothex')).toBeNull();
    expect(authIdOf('SK' + '0'.repeat(32))).toBeNull();
    expect(authIdOf('AC' + '0'.repeat(31))).toBeNull();
    expect(() => accountSidOf('XX000000000000000000')).toThrow();
  });
});
