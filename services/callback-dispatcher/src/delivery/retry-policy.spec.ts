import { judge, retryDelayMs } from './retry-policy';

const response = (statusCode: number) => ({ kind: 'response' as const, statusCode, latencyMs: 1 });

describe('callback retry policy', () => {
  it.each([200, 201, 204])('delivered on %i', (s) => expect(judge(response(s)).kind).toBe('delivered'));
  it.each([500, 502, 503, 504, 408, 429])('retries %i', (s) => expect(judge(response(s)).kind).toBe('retry'));
  it.each([400, 401, 403, 404, 410, 301, 302])('gives up on %i', (s) =>
    expect(judge(response(s)).kind).toBe('terminal'),
  );

  it('retries network errors and timeouts', () => {
    expect(judge({ kind: 'network-error', latencyMs: 1, error: 'ECONNREFUSED' }).kind).toBe('retry');
    expect(judge({ kind: 'timeout', latencyMs: 1, error: 'slow' }).kind).toBe('retry');
  });

  it('follows the schedule with jitter and honours a longer Retry-After, within the maximum', () => {
    const schedule = [30, 120, 600];
    expect(retryDelayMs(1, schedule, undefined, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(2, schedule, undefined, () => 0)).toBe(96_000);
    expect(retryDelayMs(9, schedule, undefined, () => 1)).toBe(600_000);
    expect(retryDelayMs(1, schedule, 300, () => 0.5)).toBe(300_000);
    expect(retryDelayMs(1, schedule, 99999, () => 0.5)).toBe(600_000);
  });
});
