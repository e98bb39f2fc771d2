import { randomBytes } from 'node:crypto';
import { isRedactedParty, redactPartyNumber, redactedPartySchema, storedPartySchema } from './party-number';

describe('party-number redaction', () => {
  const key = randomBytes(32);

  it('gives the same digest for the same number under the same key, and a different one otherwise', () => {
    const digest = redactPartyNumber(key, 'MAAAAAAAAAAAAAAAAAA1', '+14155550123');
    expect(redactPartyNumber(key, 'MAAAAAAAAAAAAAAAAAA1', '+14155550123')).toBe(digest);
    expect(redactPartyNumber(key, 'MAAAAAAAAAAAAAAAAAA1', '+14155550124')).not.toBe(digest);
    expect(redactPartyNumber(randomBytes(32), 'MAAAAAAAAAAAAAAAAAA1', '+14155550123')).not.toBe(digest);
    // Another account's records of the same person cannot be linked to these.
    expect(redactPartyNumber(key, 'MABBBBBBBBBBBBBBBBB2', '+14155550123')).not.toBe(digest);
  });

  it('writes what the stored-party schema reads, and never the number itself', () => {
    const digest = redactPartyNumber(key, 'MAAAAAAAAAAAAAAAAAA1', '+14155550123');
    expect(redactedPartySchema.parse(digest)).toBe(digest);
    expect(storedPartySchema.parse(digest)).toBe(digest);
    expect(storedPartySchema.parse('+14155550123')).toBe('+14155550123');
    expect(digest).not.toContain('4155550123');
    expect(isRedactedParty(digest)).toBe(true);
    expect(isRedactedParty('+14155550123')).toBe(false);
    expect(isRedactedParty(null)).toBe(false);
    expect(storedPartySchema.safeParse('redacted:not-hex').success).toBe(false);
  });
});
