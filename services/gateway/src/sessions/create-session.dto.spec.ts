import 'reflect-metadata';
import { ErrorCodes } from '@maskline/contracts';
import { plivoValidationPipe } from '../http/validation.pipe';
import { CreateSessionDto } from './create-session.dto';

type Json = Record<string, unknown>;
const party = (i: number) => `+1415556${String(1000 + i)}`;

/**
 * What the gateway's validation alone refuses in a create body, before any service is asked. The
 * e2e suite keeps the rules that need the services (numbers, subaccounts, PIN pairs, addresses)
 * and checks that these come back as 400s in Plivo's error shape.
 */
describe('CreateSessionDto validation', () => {
  const ok = { first_party: party(30), second_party: party(31) };
  const cases: Array<[string, Json, number, RegExp]> = [
    ['malformed first_party', { ...ok, first_party: 'abc' }, 400, /first_party must be a phone number/],
    ['too short second_party', { ...ok, second_party: '12345' }, 400, /second_party must be a phone number/],
    ['first_party as object', { ...ok, first_party: { n: 1 } }, 400, /first_party must be a phone number/],
    ['session_expiry 0', { ...ok, session_expiry: 0 }, 400, /session_expiry must be between 1 and 7776000/],
    ['session_expiry negative', { ...ok, session_expiry: -5 }, 400, /session_expiry must be between/],
    ['session_expiry text', { ...ok, session_expiry: 'soon' }, 400, /session_expiry must be an integer/],
    ['session_expiry fraction', { ...ok, session_expiry: 1.5 }, 400, /session_expiry must be an integer/],
    [
      'call_time_limit too big',
      { ...ok, call_time_limit: 100000 },
      400,
      /call_time_limit must be between 1 and 86400/,
    ],
    ['ring_timeout 0', { ...ok, ring_timeout: 0 }, 400, /ring_timeout must be between 1 and 300/],
    ['pin_retry 6', { ...ok, pin_retry: 6 }, 400, /pin_retry must be between 0 and 5/],
    ['pin_retry -1', { ...ok, pin_retry: -1 }, 400, /pin_retry must be between 0 and 5/],
    ['pin_retry_wait 4', { ...ok, pin_retry_wait: 4 }, 400, /pin_retry_wait must be between 5 and 10/],
    ['pin_retry_wait 11', { ...ok, pin_retry_wait: 11 }, 400, /pin_retry_wait must be between 5 and 10/],
    [
      'generate_pin_length 3',
      { ...ok, generate_pin_length: 3 },
      400,
      /generate_pin_length must be between 4 and 15/,
    ],
    [
      'generate_pin_length 16',
      { ...ok, generate_pin_length: 16 },
      400,
      /generate_pin_length must be between 4 and 15/,
    ],
    [
      'cooloff 3601',
      { ...ok, virtual_number_cooloff_period: 3601 },
      400,
      /virtual_number_cooloff_period must be between 0 and 3600/,
    ],
    [
      'PIN of 3 digits',
      { ...ok, is_pin_authentication_required: true, first_party_pin: '123', second_party_pin: '4567' },
      400,
      /first_party_pin must be 4 to 15 digits/,
    ],
    [
      'PIN of 16 digits',
      {
        ...ok,
        is_pin_authentication_required: true,
        first_party_pin: '1234',
        second_party_pin: '1234567890123456',
      },
      400,
      /second_party_pin must be 4 to 15 digits/,
    ],
    [
      'PIN with letters',
      { ...ok, is_pin_authentication_required: true, first_party_pin: '12a4', second_party_pin: '4567' },
      400,
      /first_party_pin must be 4 to 15 digits/,
    ],
    [
      'callback_url not http',
      { ...ok, callback_url: 'ftp://example.com/cb' },
      400,
      /callback_url must be an http or https URL/,
    ],
    [
      'callback_url not a URL',
      { ...ok, callback_url: 'not a url' },
      400,
      /callback_url must be an http or https URL/,
    ],
    [
      'javascript: URL',
      { ...ok, first_party_play_url: 'javascript:alert(1)' },
      400,
      /first_party_play_url must be an http or https URL/,
    ],
    [
      'pin_prompt_play file URL',
      { ...ok, pin_prompt_play: 'file:///etc/passwd' },
      400,
      /pin_prompt_play must be an http or https URL/,
    ],
    ['callback_method PUT', { ...ok, callback_method: 'PUT' }, 400, /callback_method must be GET or POST/],
    [
      'recording_callback_method bad',
      { ...ok, recording_callback_method: 'DELETE' },
      400,
      /recording_callback_method must be GET or POST/,
    ],
    [
      'record_file_format ogg',
      { ...ok, record_file_format: 'ogg' },
      400,
      /record_file_format must be mp3 or wav/,
    ],
    ['record not a boolean', { ...ok, record: 'maybe' }, 400, /record must be true or false/],
    ['geomatch not a boolean', { ...ok, geomatch: 'yes please' }, 400, /geomatch must be true or false/],
  ];
  it.each(cases)('%s', async (_name, body, _status, message) => {
    const refused = await plivoValidationPipe()
      .transform(body, { type: 'body', metatype: CreateSessionDto })
      .then(
        () => undefined,
        (err: unknown) => err as { code: string; field: string; message: string },
      );
    expect(refused?.code).toBe(ErrorCodes.VALIDATION);
    expect(refused?.message).toMatch(message);
    // The message names the field it reports.
    expect(refused?.message.startsWith(refused?.field ?? '?')).toBe(true);
  });

  it('takes a valid body as sent', async () => {
    const dto = (await plivoValidationPipe().transform(
      { ...ok, session_expiry: 600 },
      { type: 'body', metatype: CreateSessionDto },
    )) as CreateSessionDto;
    expect(dto).toMatchObject({ ...ok, session_expiry: 600 });
  });
});
