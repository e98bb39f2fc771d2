import { z } from 'zod';
import {
  decryptSecret,
  deriveKeyring,
  encryptSecret,
  type EncryptedSecret,
  type Keyring,
} from '@maskline/crypto';
import { MESSAGE_BODY_KEY_LABEL, MESSAGE_MEDIA_MAX, takenMediaSchema } from './messages.contract';

/** A message's media as its event carries them sealed (`sealedMedia`). */
export type MessageMedia = z.infer<typeof takenMediaSchema>;
const sealedMediaListSchema = z.array(takenMediaSchema).max(MESSAGE_MEDIA_MAX);

/** What a sealed text is bound to: another message's event cannot carry it. */
export interface SealedTextBinding {
  provider: string;
  providerMessageId: string;
  virtualNumber: string;
}

const bindingOf = (b: SealedTextBinding) => `${b.provider}|${b.providerMessageId}|${b.virtualNumber}`;
/** A message's media list is bound to being its media too: its text's ciphertext does not open as it. */
const mediaBindingOf = (b: SealedTextBinding) => `media|${bindingOf(b)}`;

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
  open(sealed: EncryptedSecret, binding: SealedTextBinding): string {
    return decryptSecret(this.keys, sealed, bindingOf(binding));
  }

  /**
   * What a MessageReceived event carries of a message's content: its text sealed, and its media
   * (URLs a provider may serve to anyone holding them) sealed as well, when it has any; `media` in
   * clear stays empty (events published before media were sealed carry them there).
   */
  sealContent(text: string, media: MessageMedia[], binding: SealedTextBinding) {
    // What is sealed is what opens: a list `openMedia` would refuse is refused here, before the send.
    sealedMediaListSchema.parse(media);
    return {
      text: this.seal(text, binding),
      media: [] as MessageMedia[],
      ...(media.length > 0
        ? { sealedMedia: encryptSecret(this.keys, JSON.stringify(media), mediaBindingOf(binding)) }
        : {}),
    };
  }

  /** The media of a message sealed by `sealContent`; throws as `open` does, or when they are not a media list. */
  openMedia(sealed: EncryptedSecret, binding: SealedTextBinding): MessageMedia[] {
    return sealedMediaListSchema.parse(JSON.parse(decryptSecret(this.keys, sealed, mediaBindingOf(binding))));
  }
}
