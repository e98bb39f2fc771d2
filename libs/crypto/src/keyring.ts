import { hkdfSync } from 'node:crypto';
import { z } from 'zod';

/** A named 256-bit key. The id is stored beside everything it encrypts, so keys can rotate. */
export interface KeyEntry {
  id: string;
  key: Buffer;
}

/** Keys in order of preference: the first encrypts, all of them decrypt. */
export class Keyring {
  private readonly byId: Map<string, Buffer>;

  constructor(readonly entries: readonly KeyEntry[]) {
    if (entries.length === 0) throw new Error('a keyring needs at least one key');
    this.byId = new Map(entries.map((e) => [e.id, e.key]));
  }

  get active(): KeyEntry {
    return this.entries[0];
  }

  get(id: string): Buffer | undefined {
    return this.byId.get(id);
  }
}

/**
 * A keyring for another purpose, derived from this one (HKDF-SHA256 under `label`): same ids, same
 * order, so it rotates with it; a key of one purpose never opens what the other sealed.
 */
export function deriveKeyring(keyring: Keyring, label: string): Keyring {
  return new Keyring(
    keyring.entries.map((e) => ({
      id: e.id,
      key: Buffer.from(hkdfSync('sha256', e.key, Buffer.alloc(0), label, 32)),
    })),
  );
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Parses `id:base64key[,id:base64key...]` (each key 32 bytes). The first key is active.
 * Rotation: prepend a new key; keep the old ones until everything is re-encrypted.
 */
export function parseKeyring(spec: string): Keyring {
  const entries = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [id, b64, extra] = part.split(':');
      if (extra !== undefined || !id || !b64 || !KEY_ID.test(id)) {
        throw new Error('each key must be written id:base64 (id of letters, digits, _ or -)');
      }
      const key = Buffer.from(b64, 'base64');
      if (key.length !== 32) throw new Error(`key ${id} must be 32 bytes (base64 of 32 random bytes)`);
      return { id, key };
    });
  const ids = new Set(entries.map((e) => e.id));
  if (ids.size !== entries.length) throw new Error('key ids must be unique');
  return new Keyring(entries);
}

/** A config variable holding a keyring; the error names the rule, never the value. */
export const keyringSchema = z.string().transform((spec, ctx) => {
  try {
    return parseKeyring(spec);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
    return z.NEVER;
  }
});

/** A config variable holding one 32-byte base64 key (for keyed digests). */
export const keySchema = z.string().transform((b64, ctx) => {
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be base64 of 32 random bytes' });
    return z.NEVER;
  }
  return key;
});
