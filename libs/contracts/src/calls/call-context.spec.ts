import { randomBytes } from 'node:crypto';
import { Keyring } from '@maskline/crypto';
import { decodeCallContext, encodeCallContext, followUpUrl, type CallContextBinding } from './call-context';

const key = (id: string) => ({ id, key: randomBytes(32) });
const k1 = key('k1');
const k2 = key('k2');
const keys = new Keyring([k1]);
const binding: CallContextBinding = {
  provider: 'plivo',
  virtualNumber: '+14155550100',
  accountId: 'MA0123456789ABCDEFGH',
  callId: 'c0ffee00-0000-4000-8000-000000000001',
  direction: 'inbound',
};
const now = 1_800_000_000;
const mint = (keyring = keys, at = now) =>
  encodeCallContext({ stage: 'pin', pinAttempt: 2, callerRegistered: false }, binding, keyring, {
    nowSeconds: at,
    ttlSeconds: 600,
  });

describe('call context: what Maskline hands out in its URLs and takes back', () => {
  it('comes back as it was made, bound to its number, owner, call and stage', () => {
    const verdict = decodeCallContext(mint(), keys, now + 1);
    expect(verdict).toEqual({
      ok: true,
      context: {
        ...binding,
        stage: 'pin',
        pinAttempt: 2,
        callerRegistered: false,
        id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
        expiresAt: now + 600,
      },
    });
  });

  it('is URL-safe and short enough for any provider', () => {
    const token = mint();
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(token.length).toBeLessThan(400);
    expect(
      followUpUrl('https://m.test/', { stage: 'dial-ended' }, binding, keys, {
        nowSeconds: now,
        ttlSeconds: 60,
      }),
    ).toMatch(/^https:\/\/m\.test\/voice\/plivo\/dial-ended\?ctx=k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('is unique per URL made', () => {
    expect(decodeCallContext(mint(), keys, now)).not.toEqual(decodeCallContext(mint(), keys, now));
  });

  it('refuses any change to its payload or signature', () => {
    const [id, payload, signature] = mint().split('.');
    const wire = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    for (const change of [
      { vn: '+14155550199' },
      { ac: 'MA9999999999ABCDEFGH' },
      { s: 'dial-ended' },
      { c: 'other' },
      { x: now + 99999 },
    ]) {
      const forged = Buffer.from(JSON.stringify({ ...wire, ...change })).toString('base64url');
      expect(decodeCallContext(`${id}.${forged}.${signature}`, keys, now)).toEqual({
        ok: false,
        reason: 'bad-signature',
      });
    }
    const flipped = (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1);
    expect(decodeCallContext(`${id}.${payload}.${flipped}`, keys, now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    // The same bytes spelt otherwise (the last character's spare bits) are another token: refused.
    const last = signature.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = alphabet[alphabet.indexOf(last) ^ 1];
    const respelt = signature.slice(0, -1) + sameBytes;
    expect(Buffer.from(respelt, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    expect(decodeCallContext(`${id}.${payload}.${respelt}`, keys, now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses one made with another key, one expired, and one that is not a token at all', () => {
    expect(decodeCallContext(mint(new Keyring([k2])), keys, now)).toEqual({
      ok: false,
      reason: 'unknown-key',
    });
    expect(decodeCallContext(mint(new Keyring([{ id: 'k1', key: randomBytes(32) }])), keys, now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(decodeCallContext(mint(), keys, now + 601)).toEqual({ ok: false, reason: 'expired' });
    for (const junk of ['', 'a.b', 'a.b.c.d', 'k1.%%%.x', 'k1..', 'x'.repeat(5000)]) {
      expect(decodeCallContext(junk, keys, now)).toMatchObject({ ok: false });
    }
  });

  it('keeps verifying contexts made with an older key after a rotation', () => {
    const old = mint(new Keyring([k1]));
    expect(decodeCallContext(old, new Keyring([k2, k1]), now)).toMatchObject({ ok: true });
    expect(decodeCallContext(mint(new Keyring([k2, k1])), new Keyring([k2, k1]), now)).toMatchObject({
      ok: true,
    });
  });
});
