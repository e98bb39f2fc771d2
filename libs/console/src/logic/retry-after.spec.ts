import { MAX_RETRY_WAIT_MS, READ_RETRIES, retryWaitMs } from './retry-after';

const NOW = Date.parse('2026-11-30T07:00:00Z');

describe('retryWaitMs', () => {
  it('waits what Retry-After says for a 429 or a 503, in seconds or as a date', () => {
    expect(retryWaitMs(429, '9', 0, NOW)).toBe(9_000);
    expect(retryWaitMs(503, '1', 1, NOW)).toBe(1_000);
    expect(retryWaitMs(503, 'Mon, 30 Nov 2026 07:00:03 GMT', 0, NOW)).toBe(3_000);
    expect(retryWaitMs(429, 'Mon, 30 Nov 2026 06:59:00 GMT', 0, NOW)).toBe(0);
  });

  it('does not ask again without Retry-After, for other errors, past its retries, or for a long wait', () => {
    expect(retryWaitMs(429, null, 0, NOW)).toBeNull();
    expect(retryWaitMs(500, '1', 0, NOW)).toBeNull();
    expect(retryWaitMs(400, '1', 0, NOW)).toBeNull();
    expect(retryWaitMs(429, '1', READ_RETRIES, NOW)).toBeNull();
    expect(retryWaitMs(429, String(MAX_RETRY_WAIT_MS / 1000 + 1), 0, NOW)).toBeNull();
    expect(retryWaitMs(429, 'soon', 0, NOW)).toBeNull();
  });
});
