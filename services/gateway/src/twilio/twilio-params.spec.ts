import { proxyServiceFieldEntries } from '@maskline/contracts';
import { readTwilioParams } from './twilio-params';

const read = (body: Record<string, unknown>, create = false) =>
  readTwilioParams(proxyServiceFieldEntries, body, { create });

describe("reading Twilio's form parameters by the Service field table", () => {
  it('takes each parameter by its Twilio name, numbers and booleans from their form text', () => {
    expect(
      read(
        {
          UniqueName: ' rides ',
          DefaultTtl: '3600',
          GeoMatchLevel: 'overlay',
          InterceptFailClosed: 'true',
          CallbackUrl: 'https://hooks.invalid/cb',
        },
        true,
      ),
    ).toEqual({
      uniqueName: 'rides',
      defaultTtl: 3600,
      geoMatchLevel: 'overlay',
      interceptFailClosed: true,
      callbackUrl: 'https://hooks.invalid/cb',
    });
  });

  it('clears a URL or an optional text with an empty value, and leaves out what is not given', () => {
    expect(read({ CallbackUrl: '', ChatInstanceSid: '' })).toEqual({
      callbackUrl: null,
      chatInstanceSid: null,
    });
    expect(read({})).toEqual({});
  });

  it('refuses, naming the parameter: a missing required one, a bad value, an unknown one, a repeated one', () => {
    expect(() => read({}, true)).toThrow('UniqueName is required');
    expect(() => read({ UniqueName: '' })).toThrow('UniqueName must be 1 to 191 characters');
    expect(() => read({ DefaultTtl: '1.5' })).toThrow('DefaultTtl must be a whole number from 0 to 31536000');
    expect(() => read({ DefaultTtl: '31536001' })).toThrow('DefaultTtl must be a whole number');
    expect(() => read({ NumberSelectionBehavior: 'sticky' })).toThrow(
      'NumberSelectionBehavior must be one of prefer-sticky, avoid-sticky',
    );
    expect(() => read({ InterceptFailClosed: '1' })).toThrow('InterceptFailClosed must be true or false');
    expect(() => read({ CallbackUrl: 'javascript:alert(1)' })).toThrow(
      'CallbackUrl must be an absolute http(s) URL',
    );
    expect(() => read({ Sid: 'KS1' })).toThrow('Sid is not a parameter of this resource');
    expect(() => read({ DefaultTtl: ['1', '2'] })).toThrow('DefaultTtl must be given once');
  });
});
