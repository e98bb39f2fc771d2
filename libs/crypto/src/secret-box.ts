import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring';

/** AES-256-GCM ciphertext as stored: key id, IV, ciphertext and tag, base64. */
export interface EncryptedSecret {
  k: string;
  iv: string;
  ct: string;
  tag: string;
}

/** GCM's full tag: what `encryptSecret` writes, and all `decryptSecret` takes. */
const TAG_BYTES = 16;

/**
 * Encrypts with the keyring's active key. `context` is bound as associated data (e.g. the
 * account id), so a ciphertext copied to another record does not decrypt there.
 */
export function encryptSecret(keyring: Keyring, plaintext: string, context: string): EncryptedSecret {
  const { id, key } = keyring.active;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    k: id,
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

export function decryptSecret(keyring: Keyring, secret: EncryptedSecret, context: string): string {
  const key = keyring.get(secret.k);
  if (!key) throw new Error(`no key with id ${secret.k} in the keyring`);
  // The whole 16-byte tag, always (GCM takes a tag cut short, which is that much easier to forge).
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(secret.iv, 'base64'), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(secret.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(secret.ct, 'base64')), decipher.final()]).toString(
    'utf8',
  );
}

/** True when the secret was encrypted with a key other than the active one (re-encrypt it). */
export function needsReencryption(keyring: Keyring, secret: EncryptedSecret): boolean {
  return secret.k !== keyring.active.id;
}
