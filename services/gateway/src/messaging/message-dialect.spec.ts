import { plivoMessages, twilioMessages } from './message-dialect';

describe('a text webhook’s message id: its provider’s exact form, nothing more', () => {
  const hex = 'ec8e12b0a5eb4fc68e173f1c5db95b2a';

  it('takes Twilio’s SMS and MMS ids, in either case of hex digits', () => {
    const { form } = twilioMessages.messageId;
    for (const id of [`SM${hex}`, `MM${hex}`, `SM${hex.toUpperCase()}`])
      expect([id, form.test(id)]).toEqual([id, true]);
  });

  it('refuses a Twilio id with anything folded in or left out, or of another resource', () => {
    const { form } = twilioMessages.messageId;
    for (const id of [
      `SM${hex}NumMedia0`,
      `SM${hex}0`,
      `SM${hex.slice(1)}`,
      `CA${hex}`,
      `sm${hex}`,
      `SM${hex.slice(2)}zz`,
      '',
    ]) {
      expect([id, form.test(id)]).toEqual([id, false]);
    }
  });

  it('takes Plivo’s message UUIDs, and refuses one with anything folded in, or without its hyphens', () => {
    const { form } = plivoMessages.messageId;
    const uuid = 'db3ce55a-7f1d-11e1-8ea7-1231380bc196';
    expect(form.test(uuid)).toBe(true);
    expect(form.test(uuid.toUpperCase())).toBe(true);
    for (const id of [`${uuid}Text`, `${uuid}Texthi`, uuid.replace(/-/g, ''), uuid.slice(1), `${uuid}0`]) {
      expect([id, form.test(id)]).toEqual([id, false]);
    }
  });

  it('names the parameter the id comes in, which the refusal names', () => {
    expect(plivoMessages.read({ From: '14155550100', To: '14155550101' })).toEqual({
      missing: 'MessageUUID',
    });
    expect(twilioMessages.read({ From: '+14155550100', To: '+14155550101' })).toEqual({
      missing: 'MessageSid',
    });
  });

  it('refuses a media URL that is not one Maskline takes by its parameter, and drops a content type that is not plain', () => {
    const base = { MessageSid: `MM${hex}`, From: '+14155550100', To: '+14155550101', NumMedia: '2' };
    expect(
      twilioMessages.read({
        ...base,
        MediaUrl0: 'https://m.test/a.jpg',
        MediaUrl1: 'https://m.test/"b".jpg',
      }),
    ).toEqual({ invalid: 'MediaUrl1', rule: expect.stringContaining('http(s) URL') });
    expect(
      twilioMessages.read({
        ...base,
        MediaUrl0: 'HTTPS://m.test/a.jpg?x=1&y=%20',
        MediaContentType0: 'image/"x"',
      }),
    ).toMatchObject({ media: [{ url: 'HTTPS://m.test/a.jpg?x=1&y=%20', contentType: null }] });
  });
});
