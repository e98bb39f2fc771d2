import { consoleEndpoints } from './console-endpoints';

describe('consoleEndpoints', () => {
  it('builds the account paths of the contract', () => {
    expect(consoleEndpoints.sessions('MA123', 'limit=20&offset=0')).toBe(
      '/v1/Account/MA123/Masking/Session/?limit=20&offset=0',
    );
    expect(consoleEndpoints.sessionPinAttempts('MA123', 'abc-1')).toBe(
      '/v1/Account/MA123/Masking/Session/abc-1/PinAttempts/',
    );
    expect(consoleEndpoints.deadLetters('MA123', 20, 40)).toBe(
      '/v1/Account/MA123/Masking/Callbacks/DeadLetters/?limit=20&offset=40',
    );
    expect(consoleEndpoints.utilizationHistory('MA123', 24)).toBe(
      '/v1/Account/MA123/Masking/Utilization/History/?hours=24',
    );
  });

  it('keeps every id inside its own path segment', () => {
    expect(consoleEndpoints.session('MA123', '../../admin')).toBe(
      '/v1/Account/MA123/Masking/Session/..%2F..%2Fadmin/',
    );
    expect(consoleEndpoints.session('MA123', '..')).toBe('/v1/Account/MA123/Masking/Session/%2E%2E/');
    expect(consoleEndpoints.utilization('a b?c')).toBe('/v1/Account/a%20b%3Fc/Masking/Utilization/');
  });
});
