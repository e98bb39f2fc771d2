import {
  DayTallyBuilder,
  RECORD_IN_DAY_WITHIN_MS,
  recordsInItsDay,
  TALLY_AFTER_DAY_MS,
  TALLY_GROUPS_MAX,
  TALLY_STARTS_MAX,
  firstTalliedDay,
  tallyHolds,
  talliedMatches,
  type AccountTally,
  type TalliedFields,
  type TallyGroup,
} from './ended-day-tally';
import { packAscending } from '@maskline/persistence';

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);

function tallyOf(records: TalliedFields[]): TallyGroup[] {
  const builder = new DayTallyBuilder();
  builder.add(records);
  return builder.accounts().flatMap((a) => {
    if (a.groups === 'too many') throw new Error('unexpected');
    return a.groups;
  });
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
          starts: packAscending([at('2026-11-20T08:00:00Z').getTime(), at('2026-11-20T12:00:00Z').getTime()]),
        },
        {
          accountId: 'MA1',
          subaccountId: 'SA1',
          count: 1,
          firstCreatedAt: at('2026-11-19T23:00:00Z'),
          lastCreatedAt: at('2026-11-19T23:00:00Z'),
          starts: packAscending([at('2026-11-19T23:00:00Z').getTime()]),
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

  it('counts a range of starts that holds a group whole, misses it, or cuts through it (by its starts)', () => {
    const since = (iso: string) => ({ accountId: 'MA1', ...plivoList, createdAt: { $gte: at(iso) } });
    // Holds both groups whole.
    expect(talliedMatches(groups, since('2026-11-19T00:00:00Z'))?.count).toBe(3);
    // Misses the subaccount's group, holds the other whole.
    expect(talliedMatches(groups, since('2026-11-20T00:00:00Z'))?.count).toBe(2);
    // Cuts between 08:00 and 12:00: counted from the starts, with the latest start among the matches.
    expect(talliedMatches(groups, since('2026-11-20T10:00:00Z'))).toEqual({
      count: 1,
      lastCreatedAt: at('2026-11-20T12:00:00Z'),
    });
    expect(
      talliedMatches(groups, {
        accountId: 'MA1',
        ...plivoList,
        createdAt: { $lt: at('2026-11-20T10:00:00Z') },
      }),
    ).toEqual({ count: 2, lastCreatedAt: at('2026-11-20T08:00:00Z') });
    // A tally made before starts were kept (or past TALLY_STARTS_MAX) cannot tell: the day is counted.
    const withoutStarts = groups.map(({ starts: _starts, ...g }) => g);
    expect(talliedMatches(withoutStarts, since('2026-11-20T10:00:00Z'))).toBeNull();
    // Nor can starts that do not add up to the count.
    const short = groups.map((g) =>
      g.count === 2 ? { ...g, starts: packAscending([g.firstCreatedAt.getTime()]) } : g,
    );
    expect(talliedMatches(short, since('2026-11-20T10:00:00Z'))).toBeNull();
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
    ).toEqual({ count: 1, lastCreatedAt: at('2026-11-20T12:00:00Z') });
    expect(
      talliedMatches(groups, {
        accountId: 'MA1',
        subaccountId: null,
        ...plivoList,
        createdAt: { $gte: at('2026-11-20T08:00:00Z'), $lt: at('2026-11-20T12:00:00Z') },
      }),
    ).toEqual({ count: 1, lastCreatedAt: at('2026-11-20T08:00:00Z') });
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

  it('keeps no starts for a group whose starts cannot be packed (a start before 1970), and counts it whole as before', () => {
    const early = tallyOf([record('MA1', '1969-12-31T23:59:59Z'), record('MA1', '2026-11-20T08:00:00Z')]);
    expect(early[0].starts).toBeUndefined();
    expect(early[0].count).toBe(2);
    const list = { accountId: 'MA1', ...plivoList };
    expect(talliedMatches(early, list)?.count).toBe(2);
    expect(talliedMatches(early, { ...list, createdAt: { $gte: at('2026-01-01T00:00:00Z') } })).toBeNull();
  });

  it('keeps no starts for an account past TALLY_STARTS_MAX sessions that day, and for that account alone', () => {
    const builder = new DayTallyBuilder();
    const base = at('2026-11-20T00:00:00Z').getTime();
    builder.add(
      Array.from({ length: TALLY_STARTS_MAX + 1 }, (_, i) => ({
        accountId: 'MA1',
        subaccountId: i % 2 === 0 ? null : 'SA1',
        createdAt: new Date(base + i),
      })),
    );
    builder.add([record('MA2', '2026-11-20T08:00:00Z')]);
    // One more of MA1's after the cap: still none, its count whole.
    builder.add([record('MA1', '2026-11-20T09:00:00Z')]);
    expect(builder.accounts()[0].groups).not.toBe('too many');
    const kept = builder
      .accounts()
      .map((a) => (a.groups === 'too many' ? [] : a.groups.map((g) => g.starts !== undefined)));
    expect(kept).toEqual([[false, false], [true]]);
  });

  it('gives up on one account past TALLY_GROUPS_MAX subaccounts, and on that account alone', async () => {
    const builder = new DayTallyBuilder();
    const many = Array.from({ length: TALLY_GROUPS_MAX }, (_, i) =>
      record('MA1', '2026-11-20T08:00:00Z', { subaccountId: `SA${String(i).padStart(18, '0')}` }),
    );
    builder.add([...many, record('MA2', '2026-11-20T08:00:00Z')]);
    const count = (a: AccountTally) => (a.groups === 'too many' ? a.groups : a.groups.length);
    expect(builder.accounts().map(count)).toEqual([TALLY_GROUPS_MAX, 1]);
    builder.add([record('MA1', '2026-11-20T08:00:00Z')]);
    expect(builder.accounts().map(count)).toEqual(['too many', 1]);
  });

  it('leaves a record in its day for an hour after the day, then in the collection kept before', () => {
    const ended = at('2026-11-20T23:59:00Z');
    const dayEnd = at('2026-11-21T00:00:00Z').getTime();
    expect(recordsInItsDay(ended, ended.getTime())).toBe(true);
    expect(recordsInItsDay(ended, dayEnd + RECORD_IN_DAY_WITHIN_MS - 1)).toBe(true);
    expect(recordsInItsDay(ended, dayEnd + RECORD_IN_DAY_WITHIN_MS)).toBe(false);
  });

  it('is made and trusted for a day three hours after it ended, and while no retention sweep deletes from it', () => {
    const retainedFrom = at('2026-11-01T15:00:00Z');
    // A sweep on a clock an hour ahead deletes what ended before 16:00 on the 1st: the 2nd is whole.
    expect(firstTalliedDay(retainedFrom)).toEqual(at('2026-11-02T00:00:00Z'));
    // Within the last hour of a day, that clock is already in the next one.
    expect(firstTalliedDay(at('2026-11-01T23:30:00Z'))).toEqual(at('2026-11-03T00:00:00Z'));
    expect(firstTalliedDay(at('2026-11-01T23:00:00Z'))).toEqual(at('2026-11-02T00:00:00Z'));
    const day = at('2026-11-20T00:00:00Z');
    const dayEnd = day.getTime() + DAY;
    expect(tallyHolds(day, retainedFrom, dayEnd)).toBe(false);
    expect(tallyHolds(day, retainedFrom, dayEnd + TALLY_AFTER_DAY_MS - 1)).toBe(false);
    expect(tallyHolds(day, retainedFrom, dayEnd + TALLY_AFTER_DAY_MS)).toBe(true);
    expect(TALLY_AFTER_DAY_MS).toBeGreaterThanOrEqual(3 * 3_600_000);
    const late = at('2026-11-30T00:00:00Z').getTime();
    expect(tallyHolds(at('2026-11-01T00:00:00Z'), retainedFrom, late)).toBe(false);
    expect(tallyHolds(at('2026-11-02T00:00:00Z'), retainedFrom, late)).toBe(true);
  });
});
