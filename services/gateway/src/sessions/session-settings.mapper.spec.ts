import { DEFAULT_SESSION_SETTINGS } from '@maskline/contracts';
import { changesFromUpdate, settingsFromCreate } from './session-settings.mapper';

describe('session settings from a request body', () => {
  it('takes every default the body leaves out, and a null as left out', () => {
    expect(settingsFromCreate({})).toEqual(DEFAULT_SESSION_SETTINGS);
    expect(settingsFromCreate({ record: null, session_expiry: null, callback_url: null })).toEqual(
      DEFAULT_SESSION_SETTINGS,
    );
  });

  it('reads a setting under its Plivo name or an alias, the Plivo name first', () => {
    expect(settingsFromCreate({ geo_match: false }).geomatch).toBe(false);
    expect(settingsFromCreate({ geomatch: null, geo_match: false }).geomatch).toBe(false);
    expect(settingsFromCreate({ geomatch: true, geo_match: false }).geomatch).toBe(true);
    expect(settingsFromCreate({ session_expiry: 600 }).sessionExpirySeconds).toBe(600);
  });

  it('changes on update only what the body names, and only updatable settings', () => {
    expect(changesFromUpdate({ ring_timeout: 30, pin_retry: 3 })).toEqual({ ringTimeoutSeconds: 30 });
    expect(changesFromUpdate({})).toEqual({});
  });
});
