import { randomBytes } from 'node:crypto';
import { deriveKeyring, parseKeyring } from './keyring';
import { decryptSecret, encryptSecret, needsReencryption } from './secret-box';
import { constantTimeEqual, keyedDigest, randomString } from './keyed-digest';

const key = () => randomBytes(32).toString('base64');

describe('secret box', () => {
  it('round-trips, and the ciphertext does not contain the plaintext', () => {
    const ring = parseKeyring(`k1:${key()}`);
    const box = encryptSecret(ring, 'auth-token-1234567890', 'MAAAAAAAAAAAAAAAAAAA');
    expect(JSON.stringify(box)).not.toContain('auth-token');
    expect(decryptSecret(ring, box, 'MAAAAAAAAAAAAAAAAAAA')).toBe('auth-token-1234567890');
  });

  it('refuses a ciphertext moved to another record', () => {
    const ring = parseKeyring(`k1:${key()}`);
    const box = encryptSecret(ring, 'secret', 'account-a');
    expect(() => decryptSecret(ring, box, 'account-b')).toThrow();
  });

  it('refuses a tag cut short (GCM would take it, and a short tag is easier to forge)', () => {
    const ring = parseKeyring(`k1:${key()}`);
    const box = encryptSecret(ring, 'secret', 'ctx');
    const short = { ...box, tag: Buffer.from(box.tag, 'base64').subarray(0, 4).toString('base64') };
    expect(() => decryptSecret(ring, short, 'ctx')).toThrow();
  });

  it('rotates: a new active key encrypts, the old one still decrypts', () => {
    const oldKey = key();
    const before = parseKeyring(`k1:${oldKey}`);
    const box = encryptSecret(before, 'secret', 'ctx');
    const after = parseKeyring(`k2:${key()},k1:${oldKey}`);
    expect(decryptSecret(after, box, 'ctx')).toBe('secret');
    expect(needsReencryption(after, box)).toBe(true);
    expect(encryptSecret(after, 'x', 'ctx').k).toBe('k2');
  });

  it.each(['', 'k1', 'k1:short', `k1:${key()},k1:${key()}`, `bad id:${key()}`])(
    'rejects keyring %p',
    (spec) => {
      expect(() => parseKeyring(spec)).toThrow();
    },
  );
});

describe('keyed digest', () => {
  it('depends on the key and on part boundaries', () => {
    const k = randomBytes(32);
    expect(keyedDigest(k, 'ab', 'c')).not.toBe(keyedDigest(k, 'a', 'bc'));
    expect(keyedDigest(k, 'x')).not.toBe(keyedDigest(randomBytes(32), 'x'));
    expect(keyedDigest(k, 'x')).toBe(keyedDigest(k, 'x'));
  });

  it('compares in constant time and handles different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });

  it('makes random strings of the requested alphabet', () => {
    expect(randomString(40)).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(randomString(18, 'ABC')).toMatch(/^[ABC]{18}$/);
  });
});

describe('deriveKeyring', () => {
  const base = parseKeyring(
    `k1:${Buffer.alloc(32, 7).toString('base64')},k0:${Buffer.alloc(32, 9).toString('base64')}`,
  );

  it('keeps ids and order, and a key of one purpose does not open what another sealed', () => {
    const bodies = deriveKeyring(base, 'bodies');
    expect(bodies.entries.map((e) => e.id)).toEqual(['k1', 'k0']);
    const sealed = encryptSecret(bodies, 'see you at gate B', 'ctx');
    expect(decryptSecret(deriveKeyring(base, 'bodies'), sealed, 'ctx')).toBe('see you at gate B');
    expect(() => decryptSecret(deriveKeyring(base, 'other'), sealed, 'ctx')).toThrow();
    expect(() => decryptSecret(base, sealed, 'ctx')).toThrow();
  });
});
