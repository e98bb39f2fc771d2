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
   * retired key as long as call steps sealed with it are kept (the longest a session lives, plus
   * SESSION_RETENTION_DAYS and a day): a URL sealed with a key no longer held is shown as none, and
   * session-service, which cannot open them, cannot seal them again.
   */
  RECORDING_URL_KEYS: secret(keyringSchema),
};
