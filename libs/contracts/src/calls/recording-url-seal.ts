import { decryptSecret, encryptSecret, type EncryptedSecret, type Keyring } from '@maskline/crypto';

/** What a sealed recording URL is bound to: another call's step, or another tenant's, cannot carry it. */
export interface RecordingUrlBinding {
  accountId: string;
  sessionId: string;
  callId: string;
}

const bindingOf = (b: RecordingUrlBinding) => `recording-url|${b.accountId}|${b.sessionId}|${b.callId}`;

/**
 * A call recording's URL, sealed (a provider may serve the audio to whoever holds the URL): the call
 * router seals it into the call's progress event, session-service keeps it sealed, and only the
 * gateway (the session's interactions) and the callback dispatcher (the recording callbacks) open
 * it, with `RECORDING_URL_KEYS`.
 */
export class RecordingUrlSeal {
  constructor(private readonly keys: Keyring) {}

  seal(url: string, binding: RecordingUrlBinding): EncryptedSecret {
    return encryptSecret(this.keys, url, bindingOf(binding));
  }

  /** Throws when it was sealed with a key this keyring lacks, or for another call. */
  open(sealed: EncryptedSecret, binding: RecordingUrlBinding): string {
    return decryptSecret(this.keys, sealed, bindingOf(binding));
  }

  /**
   * The URL, or null when it cannot be opened (a key this keyring lacks: `onRefused` is told which,
   * to log it; never the sealed value nor the URL).
   */
  tryOpen(
    sealed: EncryptedSecret,
    binding: RecordingUrlBinding,
    onRefused: (keyId: string) => void,
  ): string | null {
    try {
      return this.open(sealed, binding);
    } catch {
      onRefused(sealed.k);
      return null;
    }
  }
}
