import { twimlCallActions, twimlReply } from './twiml-answer';

describe('a customer’s TwiML answer to an out-of-session call or text', () => {
  it('executes Say, Play, Pause, Redirect and Hangup; skips what it does not execute; ends the call', () => {
    expect(
      twimlCallActions(
        '<?xml version="1.0"?><Response><Say voice="alice">This number is no longer in use.</Say><Dial>+14155550100</Dial><Pause length="2"/><Play>https://hooks.customer.test/closed.mp3</Play></Response>',
      ),
    ).toEqual([
      { type: 'say', text: 'This number is no longer in use.' },
      { type: 'pause', seconds: 2 },
      { type: 'play', url: 'https://hooks.customer.test/closed.mp3' },
      { type: 'hangup' },
    ]);
    expect(
      twimlCallActions('<Response><Redirect>https://hooks.customer.test/ivr</Redirect></Response>'),
    ).toEqual([{ type: 'redirect', url: 'https://hooks.customer.test/ivr' }]);
    expect(twimlCallActions('<Response><Reject/></Response>')).toEqual([{ type: 'hangup' }]);
  });

  it('answers nothing for what is not TwiML, has nothing it executes, or is malformed or too deep', () => {
    expect(twimlCallActions('{"participantIdentifier":"+1"}')).toBeNull();
    expect(twimlCallActions('<Response><Dial>+14155550100</Dial></Response>')).toBeNull();
    expect(twimlCallActions('<Response><Play>not a url</Play></Response>')).toBeNull();
    expect(twimlCallActions('<Response><Say>unclosed</Response>')).toBeNull();
    expect(twimlCallActions(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toBeNull();
  });

  it('takes the first Message’s text as the reply to a text, within 1,600 characters', () => {
    expect(twimlReply('<Response><Message>Sorry, this listing has closed.</Message></Response>')).toBe(
      'Sorry, this listing has closed.',
    );
    expect(twimlReply('<Response><Message><Body>With a body</Body></Message></Response>')).toBe(
      'With a body',
    );
    expect(twimlReply('<Response><Say>voice only</Say></Response>')).toBeNull();
    expect(twimlReply(`<Response><Message>${'x'.repeat(1601)}</Message></Response>`)).toBeNull();
  });
});
