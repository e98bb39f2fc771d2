import {
  DayTallyBuilder,
  TALLY_AFTER_DAY_MS,
  TALLY_GROUPS_MAX,
  firstTalliedDay,
  tallyHolds,
  talliedMatches,
  type TalliedFields,
  type TallyGroup,
} from './ended-day-tally';

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);

function tallyOf(records: TalliedFields[]): TallyGroup[] {
  const builder = new DayTallyBuilder();
  builder.add(records);
  const groups = builder.groups();
  if (groups === 'too many') throw new Error('unexpected');
  return groups;
}

const record = (accountId: string, createdAt: string, more: Partial<TalliedFields> = {}): TalliedFields => ({
  accountId,
  subaccountId: null,
  createdAt: at(createdAt),
  ...more,
});

describe('a day of ended sessions tallied for lists', () => {
  const groups = tallyOf([
    record('MA1', '2026-11-20T08:00:00Z'),
    record('MA1', '2026-11-20T12:00:00Z'),
    record('MA1', '2026-11-19T23:00:00Z', { subaccountId: 'SA1' }),
    record('MA2', '2026-11-20T10:00:00Z'),
    // A Proxy session: never in the Plivo-style list, so never in its count.
    record('MA1', '2026-11-20T09:00:00Z', { proxy: { serviceSid: 'KS1' } as TalliedFields['proxy'] }),
  ]);
  const plivoList = { proxy: { $exists: false } };

  it('groups by account and subaccount, with the first and last start, leaving Proxy sessions out', () => {
    expect(groups).toHaveLength(3);
    expect(groups).toEqual(
      expect.arrayContaining([
        {
          accountId: 'MA1',
          subaccountId: null,
          count: 2,
          firstCreatedAt: at('2026-11-20T08:00:00Z'),
          lastCreatedAt: at('2026-11-20T12:00:00Z'),
        },
        {
          accountId: 'MA1',
          subaccountId: 'SA1',
          count: 1,
          firstCreatedAt: at('2026-11-19T23:00:00Z'),
          lastCreatedAt: at('2026-11-19T23:00:00Z'),
        },
      ]),
    );
  });

  it("counts an account's own sessions, its subaccounts' included, and a subaccount's alone", () => {
    expect(talliedMatches(groups, { accountId: 'MA1', ...plivoList })).toEqual({
      count: 3,
      lastCreatedAt: at('2026-11-20T12:00:00Z'),
    });
    expect(talliedMatches(groups, { accountId: 'MA1', subaccountId: 'SA1', ...plivoList })).toEqual({
      count: 1,
      lastCreatedAt: at('2026-11-19T23:00:00Z'),
    });
    expect(talliedMatches(groups, { accountId: 'MA2', ...plivoList })?.count).toBe(1);
    // Another tenant, or another tenant's subaccount id under this account: nothing.
    expect(talliedMatches(groups, { accountId: 'MA3', ...plivoList })).toEqual({
      count: 0,
      lastCreatedAt: null,
    });
    expect(talliedMatches(groups, { accountId: 'MA2', subaccountId: 'SA1', ...plivoList })?.count).toBe(0);
  });

  it('counts a range of starts that holds a group whole or misses it, and cannot tell one that cuts through it', () => {
    const since = (iso: string) => ({ accountId: 'MA1', ...plivoList, createdAt: { $gte: at(iso) } });
    // Holds both groups whole.
    expect(talliedMatches(groups, since('2026-11-19T00:00:00Z'))?.count).toBe(3);
    // Misses the subaccount's group, holds the other whole.
    expect(talliedMatches(groups, since('2026-11-20T00:00:00Z'))?.count).toBe(2);
    // Cuts between 08:00 and 12:00: a count would need the records.
    expect(talliedMatches(groups, since('2026-11-20T10:00:00Z'))).toBeNull();
    // Bounds on the very first and last starts are inclusive or not as asked.
    expect(
      talliedMatches(groups, {
        accountId: 'MA1',
        subaccountId: null,
        ...plivoList,
        createdAt: { $gte: at('2026-11-20T08:00:00Z'), $lte: at('2026-11-20T12:00:00Z') },
      })?.count,
    ).toBe(2);
    expect(
      talliedMatches(groups, {
        accountId: 'MA1',
        subaccountId: null,
        ...plivoList,
        createdAt: { $gt: at('2026-11-20T08:00:00Z') },
      }),
    ).toBeNull();
    // Wholly after every start: none.
    expect(talliedMatches(groups, since('2026-11-21T00:00:00Z'))).toEqual({ count: 0, lastCreatedAt: null });
    // Wholly before the account's first start: none.
    expect(
      talliedMatches(groups, {
        accountId: 'MA1',
        ...plivoList,
        createdAt: { $lt: at('2026-11-19T22:00:00Z') },
      })?.count,
    ).toBe(0);
  });

  it('cannot tell a filter on anything else (a party, a number, an expiry, Proxy sessions, an exact start)', () => {
    const base = { accountId: 'MA1', ...plivoList };
    expect(talliedMatches(groups, { ...base, virtualNumber: '+14155550100' })).toBeNull();
    expect(talliedMatches(groups, { ...base, firstParty: { $in: ['+14155550101'] } })).toBeNull();
    expect(talliedMatches(groups, { ...base, expiresAt: { $gte: at('2026-11-20T00:00:00Z') } })).toBeNull();
    expect(talliedMatches(groups, { ...base, $or: [] })).toBeNull();
    expect(talliedMatches(groups, { accountId: 'MA1' })).toBeNull();
    expect(talliedMatches(groups, { accountId: 'MA1', proxy: { $exists: true } })).toBeNull();
    expect(talliedMatches(groups, { ...base, createdAt: { $eq: at('2026-11-20T08:00:00Z') } })).toBeNull();
    expect(talliedMatches(groups, { ...base, createdAt: at('2026-11-20T08:00:00Z') })).toBeNull();
    expect(talliedMatches(groups, { ...base, createdAt: { $gte: '2026-11-20' } })).toBeNull();
  });

  it('gives up past TALLY_GROUPS_MAX accounts and subaccounts', () => {
    const builder = new DayTallyBuilder();
    builder.add(Array.from({ length: TALLY_GROUPS_MAX }, (_, i) => record(`MA${i}`, '2026-11-20T08:00:00Z')));
    expect(builder.groups()).toHaveLength(TALLY_GROUPS_MAX);
    builder.add([record('MAone-more', '2026-11-20T08:00:00Z')]);
    expect(builder.groups()).toBe('too many');
  });

  it('is made and trusted for a day once it ended an hour ago and while retention deletes nothing from it', () => {
    const retainedFrom = at('2026-11-01T15:00:00Z');
    expect(firstTalliedDay(retainedFrom)).toEqual(at('2026-11-03T00:00:00Z'));
    const day = at('2026-11-20T00:00:00Z');
    const dayEnd = day.getTime() + DAY;
    expect(tallyHolds(day, retainedFrom, dayEnd)).toBe(false);
    expect(tallyHolds(day, retainedFrom, dayEnd + TALLY_AFTER_DAY_MS - 1)).toBe(false);
    expect(tallyHolds(day, retainedFrom, dayEnd + TALLY_AFTER_DAY_MS)).toBe(true);
    // The day retention range-deletes, and the next: never.
    const late = at('2026-11-30T00:00:00Z').getTime();
    expect(tallyHolds(at('2026-11-01T00:00:00Z'), retainedFrom, late)).toBe(false);
    expect(tallyHolds(at('2026-11-02T00:00:00Z'), retainedFrom, late)).toBe(false);
    expect(tallyHolds(at('2026-11-03T00:00:00Z'), retainedFrom, late)).toBe(true);
  });
});
