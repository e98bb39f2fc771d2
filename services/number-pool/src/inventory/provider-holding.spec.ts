import {
  holdingConfirmed,
  holdingToAsk,
  holdingUnconfirmed,
  type ProviderHoldingRecord,
} from './provider-holding';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-04T10:00:00Z');
const record = (extra: Partial<ProviderHoldingRecord> = {}): ProviderHoldingRecord => ({
  at: new Date(NOW - 1000),
  provider: 'plivo',
  providerAccountId: 'MA1',
  held: true,
  ...extra,
});
const number = (
  providerHolding?: ProviderHoldingRecord,
  credentials: { accountId: string } | null = { accountId: 'MA1' },
) => ({
  provider: 'plivo' as const,
  credentials,
  providerHolding,
});

describe('a number’s provider holding', () => {
  it('is confirmed only by a record of the provider and provider account its credentials are now', () => {
    expect(holdingConfirmed(number(record()))).toBe(true);
    expect(holdingConfirmed(number(record({ held: false })))).toBe(false);
    // Credentials changed since, by whatever path (an older release's update, a race): nothing confirmed.
    expect(holdingConfirmed(number(record({ providerAccountId: 'MA2' })))).toBe(false);
    expect(holdingConfirmed(number(record({ provider: 'twilio' })))).toBe(false);
    // Never asked (stored before the question was asked, or by an older release): not confirmed.
    expect(holdingConfirmed(number(undefined))).toBe(false);
    expect(holdingConfirmed(number(record(), null))).toBe(false);
  });

  it('is asked about when never asked for these credentials, or asked long enough ago; never without credentials', () => {
    expect(holdingToAsk(number(undefined), NOW, DAY)).toBe(true);
    expect(holdingToAsk(number(record({ providerAccountId: 'MA2' })), NOW, DAY)).toBe(true);
    expect(holdingToAsk(number(record()), NOW, DAY)).toBe(false);
    expect(holdingToAsk(number(record({ at: new Date(NOW - DAY) })), NOW, DAY)).toBe(true);
    // A word that did not confirm it (a refused token may be one being rotated): asked again within the hour.
    expect(holdingToAsk(number(record({ held: false, at: new Date(NOW - DAY / 24 + 1) })), NOW, DAY)).toBe(
      false,
    );
    expect(holdingToAsk(number(record({ held: false, at: new Date(NOW - DAY / 24) })), NOW, DAY)).toBe(true);
    expect(holdingToAsk(number(undefined, null), NOW, DAY)).toBe(false);
  });

  it('may be taken by a confirmed holder when its own word does not confirm it, never while it waits to be asked', () => {
    expect(holdingUnconfirmed(number(undefined, null))).toBe(true);
    expect(holdingUnconfirmed(number(record({ held: false })))).toBe(true);
    // Its provider switched, or credentials changed, after the word: it confirms nothing, so takeable.
    expect(holdingUnconfirmed(number(record({ provider: 'twilio' })))).toBe(true);
    expect(holdingUnconfirmed(number(record({ providerAccountId: 'MA2' })))).toBe(true);
    expect(holdingUnconfirmed(number(record()))).toBe(false);
    // Stored before the question was asked: the sweep asks first.
    expect(holdingUnconfirmed(number(undefined))).toBe(false);
  });
});
