import {
  buildSessionSearchQuery,
  dateTimeLocalToApi,
  EMPTY_SESSION_SEARCH,
  usesDefaultTimeWindow,
} from './session-search-query';

describe('dateTimeLocalToApi', () => {
  it('turns datetime-local values into the API time format', () => {
    expect(dateTimeLocalToApi('2026-11-29T16:02')).toBe('2026-11-29 16:02');
    expect(dateTimeLocalToApi('2026-11-29T16:02:59')).toBe('2026-11-29 16:02');
    expect(dateTimeLocalToApi('2026-11-29T16:02:59.250')).toBe('2026-11-29 16:02');
  });

  it('rejects what is not a real date and time', () => {
    expect(dateTimeLocalToApi('2026-11-29')).toBeNull();
    expect(dateTimeLocalToApi('2026-02-30T10:00')).toBeNull();
    expect(dateTimeLocalToApi('2026-11-29T25:00')).toBeNull();
    expect(dateTimeLocalToApi('tomorrow')).toBeNull();
  });
});

describe('buildSessionSearchQuery', () => {
  it('sends paging and the status even for an empty form', () => {
    expect(buildSessionSearchQuery(EMPTY_SESSION_SEARCH)).toEqual({
      ok: true,
      query: 'limit=20&offset=0&status=all',
    });
  });

  it('encodes "+" so the server does not read it as a space', () => {
    const result = buildSessionSearchQuery(
      {
        ...EMPTY_SESSION_SEARCH,
        party: '+49 151 1234-5678',
        virtualNumber: '(415) 555 0100',
        status: 'active',
      },
      { limit: 20, offset: 40 },
    );
    expect(result).toEqual({
      ok: true,
      query: 'limit=20&offset=40&party=%2B4915112345678&virtual_number=4155550100&status=active',
    });
  });

  it('sends the UTC time range in the API format', () => {
    const result = buildSessionSearchQuery({
      ...EMPTY_SESSION_SEARCH,
      status: 'expired',
      createdFrom: '2026-11-01T00:00',
      createdTo: '2026-11-29T16:02',
    });
    expect(result).toEqual({
      ok: true,
      query:
        'limit=20&offset=0&status=expired&created_time__gte=2026-11-01%2000%3A00&created_time__lte=2026-11-29%2016%3A02',
    });
  });

  it('names each field that is wrong', () => {
    const result = buildSessionSearchQuery({
      ...EMPTY_SESSION_SEARCH,
      party: 'alice',
      createdFrom: '2026-11-29T16:02',
      createdTo: '2026-11-01T00:00',
    });
    expect(result).toEqual({
      ok: false,
      errors: [
        { field: 'party', message: 'Party must be a phone number: digits, optionally starting with +.' },
        { field: 'createdTo', message: 'Created to (UTC) must not be before Created from (UTC).' },
      ],
    });
  });
});

describe('usesDefaultTimeWindow', () => {
  it('is true only while neither time is set', () => {
    expect(usesDefaultTimeWindow(EMPTY_SESSION_SEARCH)).toBe(true);
    expect(usesDefaultTimeWindow({ ...EMPTY_SESSION_SEARCH, createdTo: '2026-11-29T16:02' })).toBe(false);
  });
});
