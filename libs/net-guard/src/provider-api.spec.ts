import { breakerName } from '@maskline/resilience';
import { providerAccountBreaker, providerApiUrl, providerNumberUrl } from './provider-api';

const config = { PLIVO_API_BASE_URL: 'http://127.0.0.1:9/', TWILIO_API_BASE_URL: 'http://127.0.0.1:9' };

describe('provider API requests', () => {
  it('names the resource under the provider account, in each dialect', () => {
    expect(providerApiUrl(config, 'plivo', 'MA123', 'call')).toBe(
      'http://127.0.0.1:9/v1/Account/MA123/Call/',
    );
    expect(providerApiUrl(config, 'plivo', 'MA123', 'message')).toBe(
      'http://127.0.0.1:9/v1/Account/MA123/Message/',
    );
    expect(providerApiUrl(config, 'twilio', 'AC1', 'call')).toBe(
      'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Calls.json',
    );
    expect(providerApiUrl(config, 'twilio', 'AC1', 'message')).toBe(
      'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json',
    );
  });

  it('asks about a number where each provider answers whether the account holds it', () => {
    expect(providerNumberUrl(config, 'plivo', 'MA123', '+14155550100')).toBe(
      'http://127.0.0.1:9/v1/Account/MA123/Number/14155550100/',
    );
    expect(providerNumberUrl(config, 'twilio', 'AC1', '+14155550100')).toBe(
      'http://127.0.0.1:9/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?PhoneNumber=%2B14155550100',
    );
    expect(() => providerNumberUrl(config, 'plivo', '..', '+14155550100')).toThrow(/letters, digits/);
  });

  it.each(['..', '.', 'x/../../admin?', '%2e%2e', ''])(
    'refuses an account id that could lead elsewhere on the provider’s host: %j',
    (id) => {
      expect(() => providerApiUrl(config, 'plivo', id, 'call')).toThrow(/letters, digits/);
      expect(() => providerApiUrl(config, 'twilio', id, 'message')).toThrow(/letters, digits/);
    },
  );

  it('gives each tenant its own breaker, even on one provider host and one provider account', () => {
    const one = providerAccountBreaker({
      accountId: 'MAONE',
      provider: 'plivo',
      credentials: { accountId: 'MA1' },
    });
    const other = providerAccountBreaker({
      accountId: 'MATWO',
      provider: 'plivo',
      credentials: { accountId: 'MA1' },
    });
    const twilio = providerAccountBreaker({
      accountId: 'MAONE',
      provider: 'twilio',
      credentials: { accountId: 'MA1' },
    });
    expect(one.family).toBe('provider-account');
    expect(new Set([one, other, twilio].map(breakerName)).size).toBe(3);
  });
});
