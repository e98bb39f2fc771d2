import { createHash, randomBytes } from 'node:crypto';
import { ErrorCodes } from '@maskline/contracts';
import { idempotencyKeyOf, requestDigestOf } from './idempotency-key';

describe('Idempotency-Key', () => {
  it('takes a key of 1 to 255 characters and refuses any other, naming the header', () => {
    expect(idempotencyKeyOf(undefined)).toBeNull();
    expect(idempotencyKeyOf('order-1')).toBe('order-1');
    expect(idempotencyKeyOf('k'.repeat(255))).toHaveLength(255);
    for (const bad of ['', 'k'.repeat(256)]) {
      expect(() => idempotencyKeyOf(bad)).toThrow(
        expect.objectContaining({ code: ErrorCodes.VALIDATION, field: 'Idempotency-Key' }),
      );
    }
  });

  describe('the digest a key’s claim keeps of its request', () => {
    const pepper = randomBytes(32);
    const body = {
      first_party: '+14155550100',
      second_party: '+14155550101',
      is_pin_authentication_required: true,
      first_party_pin: '4821',
      second_party_pin: '7390',
    };

    it('is the same for the same request, whatever the order of its fields, and another for another', () => {
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      expect(requestDigestOf(pepper, reordered)).toBe(requestDigestOf(pepper, body));
      expect(requestDigestOf(pepper, { ...body, second_party_pin: '7391' })).not.toBe(
        requestDigestOf(pepper, body),
      );
    });

    it('gives no PIN back to whoever reads it without the key: every PIN pair tried as a plain SHA-256 misses it', () => {
      const kept = requestDigestOf(pepper, body);
      const plain = (first: string, second: string) => {
        const candidate = { ...body, first_party_pin: first, second_party_pin: second };
        return createHash('sha256')
          .update(JSON.stringify(candidate, Object.keys(candidate).sort()))
          .digest('hex');
      };
      // The search an unkeyed digest fell to (the first PIN's 10^4 with the second known, for time).
      let found: string | null = null;
      for (let pin = 0; pin < 10_000 && !found; pin++) {
        const first = String(pin).padStart(4, '0');
        if (plain(first, body.second_party_pin) === kept) found = first;
      }
      expect(found).toBeNull();
      // Under another key the same request digests otherwise: the key, not the body alone, decides it.
      expect(requestDigestOf(randomBytes(32), body)).not.toBe(kept);
    });
  });
});
