import { keyringSchema } from '@maskline/crypto';
import { secret } from './load-config';

/**
 * The key a call recording's URL is sealed with wherever Maskline keeps or passes it on (the call's
 * progress event, the stored call step): the call router seals it, the gateway (the session's
 * interactions) and the callback dispatcher (the recording callbacks) open it. Nothing else can.
 */
export const recordingUrlConfigShape = {
  /**
   * AES-256-GCM keys: `id:base64(32 bytes)[,id:...]`; the first seals, all open (rotation). Keep a
   * retired key for 30 days (the call steps' retention): a URL sealed with a key no longer held is
   * shown as none.
   */
  RECORDING_URL_KEYS: secret(keyringSchema),
};
