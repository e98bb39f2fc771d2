import { DEFAULT_SESSION_SETTINGS, type RoutingSession } from '@maskline/contracts';
import { InternedSettings } from './interned-settings';

type Settings = RoutingSession['settings'];

describe('InternedSettings', () => {
  it('keeps equal settings once, and settings that differ in any one value apart', () => {
    const table = new InternedSettings();
    const base = { ...DEFAULT_SESSION_SETTINGS };
    const variants: Settings[] = [
      { ...base, callbackUrl: 'https://a.test/events' },
      { ...base, callbackUrl: 'https://b.test/events' },
      { ...base, ringTimeoutSeconds: 30 },
      { ...base, record: true },
      // Hashed alike (numbers by their integer part): only comparing tells them apart.
      { ...base, sessionExpirySeconds: 3600.5 },
    ];
    const baseId = table.hold(base);
    const ids = variants.map((v) => table.hold(v));
    expect(new Set([baseId, ...ids]).size).toBe(variants.length + 1);
    expect(table.hold({ ...base })).toBe(baseId);
    variants.forEach((v, i) => expect(table.value(ids[i])).toStrictEqual(v));
  });

  it('frees settings when their last holder lets go, and gives back a copy nobody can change', () => {
    const table = new InternedSettings();
    const given = { ...DEFAULT_SESSION_SETTINGS, record: true };
    const id = table.hold(given);
    given.record = false; // the caller's object is its own
    expect(table.value(id).record).toBe(true);
    expect(Object.isFrozen(table.value(id))).toBe(true);
    expect(table.hold({ ...DEFAULT_SESSION_SETTINGS, record: true })).toBe(id);
    table.release(id);
    table.release(id);
    const other = table.hold({ ...DEFAULT_SESSION_SETTINGS, record: false });
    expect(other).toBe(id); // the id is reused, for the new value
    expect(table.value(other).record).toBe(false);
  });
});
