import { z } from 'zod';
import { ConfigValidationError, loadConfig } from './load-config';
import { providerApiConfigShape } from './provider-api.config';

const schema = z.object(providerApiConfigShape);

describe('providerApiConfigShape', () => {
  it('has no default: a service started without the providers’ URLs refuses to start, naming both', () => {
    let error: unknown;
    try {
      loadConfig('call-router', schema, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems.join('\n');
    expect(problems).toMatch(/^PLIVO_API_BASE_URL: Required$/m);
    expect(problems).toMatch(/^TWILIO_API_BASE_URL: Required$/m);
  });

  it('takes the URLs it is given (a sandbox on loopback, or the real APIs in production)', () => {
    expect(
      loadConfig('number-pool', schema, {
        PLIVO_API_BASE_URL: 'http://127.0.0.1:4010',
        TWILIO_API_BASE_URL: 'https://api.twilio.com',
      }),
    ).toEqual({ PLIVO_API_BASE_URL: 'http://127.0.0.1:4010', TWILIO_API_BASE_URL: 'https://api.twilio.com' });
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() =>
      loadConfig('call-router', schema, {
        PLIVO_API_BASE_URL: 'ftp://x',
        TWILIO_API_BASE_URL: 'http://127.0.0.1:1',
      }),
    ).toThrow(/PLIVO_API_BASE_URL: must be a URL with scheme http or https/);
  });
});
