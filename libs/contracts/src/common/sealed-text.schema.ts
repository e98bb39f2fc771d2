import { z } from 'zod';

/**
 * AES-256-GCM ciphertext (`@maskline/crypto`'s EncryptedSecret): how a message's text and media,
 * and a call recording's URL, travel and rest.
 */
export const sealedTextSchema = z
  .object({
    k: z.string().min(1).max(32),
    iv: z.string().max(64),
    ct: z.string().max(60_000),
    tag: z.string().max(64),
  })
  .strict();
