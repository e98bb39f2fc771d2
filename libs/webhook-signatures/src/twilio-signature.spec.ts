import * as twilio from 'twilio';
import { twilioSignature, verifyTwilioSignature } from './twilio-signature';

describe('X-Twilio-Signature', () => {
  const url = 'https://maskline.example.com/voice/twilio/answer?x=1';
  const params = {
    CallSid: 'CA123',
    From: '+14155550101',
    To: '+14155550100',
    Direction: 'inbound',
    Digits: '0042',
  };

  it('computes what Twilio’s own library computes', () => {
    expect(twilioSignature('tw-token', url, params)).toBe(
      twilio.getExpectedTwilioSignature('tw-token', url, params),
    );
  });

  it('accepts what Twilio’s library signs and refuses a tampered request', () => {
    const header = twilio.getExpectedTwilioSignature('tw-token', url, params);
    expect(twilio.validateRequest('tw-token', header, url, params)).toBe(true);
    expect(verifyTwilioSignature('tw-token', url, params, header)).toBe(true);
    expect(verifyTwilioSignature('tw-token', url, { ...params, Digits: '0043' }, header)).toBe(false);
    expect(verifyTwilioSignature('other', url, params, header)).toBe(false);
    expect(verifyTwilioSignature('tw-token', url, params, 'short')).toBe(false);
  });
});
