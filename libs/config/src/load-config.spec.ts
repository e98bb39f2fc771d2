import { z } from 'zod';
import { envBoolean, envInt, envUrl } from './env-types';
import { commonServiceConfigShape } from './common-service.config';
import { ConfigValidationError, loadConfig, secret, secretKeys } from './load-config';

const schema = z.object({
  PORT: envInt(8080, 1, 65535),
  PUBLIC_URL: envUrl(['http', 'https']),
  DEBUG: envBoolean(false),
  API_KEY: secret(z.string().min(32, 'must be at least 32 characters')),
});

describe('loadConfig', () => {
  it('applies defaults and converts types', () => {
    const config = loadConfig('svc', schema, { PUBLIC_URL: 'https://x.example', API_KEY: 'k'.repeat(32) });
    expect(config).toEqual({
      PORT: 8080,
      PUBLIC_URL: 'https://x.example',
      DEBUG: false,
      API_KEY: 'k'.repeat(32),
    });
  });

  it('lists every bad variable at once and never echoes a secret value', () => {
    let error: unknown;
    try {
      loadConfig('svc', schema, {
        PORT: '70000',
        PUBLIC_URL: 'ftp://x',
        DEBUG: 'maybe',
        API_KEY: 'short-secret',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    expect(message).toContain('PORT: must be at most 65535');
    expect(message).toContain('PUBLIC_URL: must be a URL with scheme http or https');
    expect(message).toContain('DEBUG: must be true or false');
    expect(message).toContain('API_KEY: must be at least 32 characters');
    expect(message).not.toContain('short-secret');
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig('svc', schema, { PORT: '', PUBLIC_URL: 'http://a', API_KEY: 'k'.repeat(40) });
    expect(config.PORT).toBe(8080);
  });

  it('knows which variables are secret', () => {
    expect(secretKeys(schema)).toEqual(['API_KEY']);
  });

  it('checks the rules between common variables for every service that reads them', () => {
    const common = z.object(commonServiceConfigShape);
    expect(() =>
      loadConfig('svc', common, { HISTORY_READS_PER_ACCOUNT: '20', HISTORY_READS_IN_FLIGHT: '16' }),
    ).toThrow('HISTORY_READS_PER_ACCOUNT: must be at most HISTORY_READS_IN_FLIGHT');
    // The same rule for lookups of one session; the defaults (16 of 64) keep it.
    expect(() => loadConfig('svc', common, { HISTORY_LOOKUPS_IN_FLIGHT: '8' })).toThrow(
      'HISTORY_LOOKUPS_PER_ACCOUNT: must be at most HISTORY_LOOKUPS_IN_FLIGHT',
    );
    expect(
      loadConfig('svc', common, { HISTORY_READS_PER_ACCOUNT: '16', HISTORY_READS_IN_FLIGHT: '16' })
        .HISTORY_READS_PER_ACCOUNT,
    ).toBe(16);
  });
});
