import { randomBytes } from 'node:crypto';
import { parseKeyring } from '@maskline/crypto';
import { MEDIA_URL_MAX, MESSAGE_MEDIA_MAX, MessageReceived } from './messages.contract';
import { MessageTextSeal } from './message-text-seal';

const keys = parseKeyring(`k1:${randomBytes(32).toString('base64')}`);
const binding = {
  provider: 'twilio',
  providerMessageId: `MM${'ab'.repeat(16)}`,
  virtualNumber: '+14155550100',
};
const media = [
  {
    url: 'https://api.twilio.test/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
    contentType: 'image/jpeg',
  },
  { url: 'https://api.twilio.test/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2', contentType: null },
];

/** A MessageReceived event of `binding`'s message carrying `content`, as the gateway publishes it. */
const eventOf = <C extends object>(content: C) => ({
  provider: 'twilio' as const,
  providerMessageId: binding.providerMessageId,
  accountId: 'MA000000000000000000',
  virtualNumber: binding.virtualNumber,
  sender: '+14155550101',
  at: new Date(0).toISOString(),
  ...content,
});

describe('MessageTextSeal: what a MessageReceived event carries of a message', () => {
  const seal = new MessageTextSeal(keys);

  it('seals the media URLs with the text: neither is in the event in clear, and both open', () => {
    const content = seal.sealContent('meet me at gate B', media, binding);
    const event = eventOf(content);
    expect(MessageReceived.payload.parse(event)).toEqual(event);
    const wire = JSON.stringify(event);
    expect(wire).not.toContain('api.twilio.test');
    expect(wire).not.toContain('Media/ME');
    expect(wire).not.toContain('gate B');
    expect(content.media).toEqual([]);
    expect(seal.open(content.text, binding)).toBe('meet me at gate B');
    expect(seal.openMedia(content.sealedMedia!, binding)).toEqual(media);
  });

  it('fits the most media a message may carry (ten URLs of the longest, with content types) in the event', () => {
    const most = Array.from({ length: MESSAGE_MEDIA_MAX }, (_, i) => ({
      url: `https://m.test/${String(i)}/${'%~'.repeat(MEDIA_URL_MAX)}`.slice(0, MEDIA_URL_MAX),
      contentType: `image/${'x'.repeat(122)}`,
    }));
    const event = eventOf(seal.sealContent('x'.repeat(10_000), most, binding));
    expect(MessageReceived.payload.safeParse(event).success).toBe(true);
    expect(seal.openMedia(event.sealedMedia!, binding)).toEqual(most);
  });

  it('refuses to seal a media URL that is not one Maskline takes (a quote, a space, another scheme, too long)', () => {
    for (const url of [
      'https://m.test/a"b',
      'https://m.test/a b',
      'https://m.test/a\\b',
      'ftp://m.test/a',
      `https://m.test/${'a'.repeat(MEDIA_URL_MAX)}`,
      'https://m.test/\u0000',
    ]) {
      expect(() => seal.sealContent('hi', [{ url, contentType: null }], binding)).toThrow();
    }
  });

  it('adds nothing for a text without media', () => {
    expect(Object.keys(seal.sealContent('hi', [], binding)).sort()).toEqual(['media', 'text']);
  });

  it('opens media only as this message’s media: not for another message, and not its text', () => {
    const content = seal.sealContent('hi', media, binding);
    const other = { ...binding, providerMessageId: `MM${'cd'.repeat(16)}` };
    expect(() => seal.openMedia(content.sealedMedia!, other)).toThrow();
    expect(() => seal.openMedia(content.text, binding)).toThrow();
    expect(() => seal.open(content.sealedMedia!, binding)).toThrow();
    // Sealed with another keyring: does not open.
    const stranger = new MessageTextSeal(parseKeyring(`k1:${randomBytes(32).toString('base64')}`));
    expect(() => stranger.openMedia(content.sealedMedia!, binding)).toThrow();
  });
});
