import { interceptVerdict } from './proxy-interceptor';

describe('what an intercept callback’s answer decides', () => {
  it('blocks on 403 and lets anything else through, as Twilio does', () => {
    expect(interceptVerdict(403, false)).toBe('blocked');
    for (const status of [200, 204, 302, 400, 404, 500, 503, 'failed'] as const) {
      expect([status, interceptVerdict(status, false)]).toEqual([status, 'allowed']);
    }
  });

  it('fails closed when the Service says so: only a 2xx lets the interaction through', () => {
    expect(interceptVerdict(403, true)).toBe('blocked');
    expect(interceptVerdict(200, true)).toBe('allowed');
    expect(interceptVerdict(204, true)).toBe('allowed');
    for (const status of [302, 404, 500, 'failed'] as const) {
      expect([status, interceptVerdict(status, true)]).toEqual([status, 'blocked-fail-closed']);
    }
  });
});
