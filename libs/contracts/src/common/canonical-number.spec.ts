import { participantRequestSchema } from '../proxy/proxy-sessions.contract';
import { canonicalNumber } from './canonical-number';

describe('canonicalNumber', () => {
  it('drops a national prefix written after the country code; leaves an unknown number as given', () => {
    expect(canonicalNumber('+4402071234567')).toBe('+442071234567');
    expect(canonicalNumber('+442071234567')).toBe('+442071234567');
    expect(canonicalNumber('+14155550100')).toBe('+14155550100');
    expect(canonicalNumber('+999123456789')).toBe('+999123456789');
  });

  it('is what session-service is handed for a participant, whoever asked (the API, an out-of-session answer)', () => {
    expect(
      participantRequestSchema.parse({ identifier: '+4402071234567', proxyIdentifier: '+4402071234568' }),
    ).toMatchObject({ identifier: '+442071234567', proxyIdentifier: '+442071234568' });
  });

  it('loads libphonenumber’s metadata on first use, not when contracts are imported (every service imports them)', () => {
    jest.isolateModules(() => {
      const loaded = jest.fn();
      jest.doMock('libphonenumber-js/max', () => {
        loaded();
        return jest.requireActual<object>('libphonenumber-js/max');
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy, after the mock
      const fresh = require('./canonical-number') as typeof import('./canonical-number');
      expect(loaded).not.toHaveBeenCalled();
      expect(fresh.canonicalNumber('+4402071234567')).toBe('+442071234567');
      expect(fresh.canonicalNumber('+14155550100')).toBe('+14155550100');
      expect(loaded).toHaveBeenCalledTimes(1);
    });
  });
});
