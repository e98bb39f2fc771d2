import { keyringSchema } from '@maskline/crypto';
import { envInt } from './env-types';
import { secret } from './load-config';

/**
 * The key Maskline signs the call contexts of its own webhook URLs with, read by whoever makes or
 * checks them (the gateway, and the call router for the calls it places).
 */
export const callContextConfigShape = {
  /** HMAC keys for call contexts: `id:base64(32 bytes)[,id:...]`; the first signs, all verify (rotation). */
  CALL_CONTEXT_KEYS: secret(keyringSchema),
  /**
   * How long a call context stays valid: longer than the longest call (call_time_limit is at most
   * 24 h) plus ringing and PIN entry. Replays are remembered an hour beyond it.
   */
  CALL_CONTEXT_TTL_SECONDS: envInt(93600, 600, 172800),
};
