import { decryptSecret, deriveKeyring, encryptSecret, type Keyring } from '@maskline/crypto';
import { MESSAGE_BODY_KEY_LABEL } from './messages.contract';

/** What a sealed text is bound to: another message's event cannot carry it. */
export interface SealedTextBinding {
  provider: string;
  providerMessageId: string;
  virtualNumber: string;
}

const bindingOf = (b: SealedTextBinding) => `${b.provider}|${b.providerMessageId}|${b.virtualNumber}`;

/**
 * Message texts travel sealed between the gateway and the call router, with a key derived from
 * the call-context keyring both hold (so it rotates with it). Nothing else can read them.
 */
export class MessageTextSeal {
  private readonly keys: Keyring;

  constructor(callContextKeys: Keyring) {
    this.keys = deriveKeyring(callContextKeys, MESSAGE_BODY_KEY_LABEL);
  }

  seal(text: string, binding: SealedTextBinding) {
    return encryptSecret(this.keys, text, bindingOf(binding));
  }

  /** Whether this keyring holds the key the text was sealed with. */
  knows(sealed: { k: string }): boolean {
    return this.keys.get(sealed.k) !== undefined;
  }

  /** Throws when the text was sealed with another key or for another message. */
  open(sealed: { k: string; iv: string; ct: string; tag: string }, binding: SealedTextBinding): string {
    return decryptSecret(this.keys, sealed, bindingOf(binding));
  }
}
