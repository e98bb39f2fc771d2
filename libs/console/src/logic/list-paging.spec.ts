import { describePage } from './list-paging';

describe('describePage', () => {
  it('offers Next while rows remain and Previous after the first page', () => {
    expect(describePage({ limit: 20, offset: 0, total_count: 45 }, 20)).toEqual({
      first: 1,
      last: 20,
      total: 45,
      previousOffset: null,
      nextOffset: 20,
      text: 'Showing 1–20 of 45',
    });
    expect(describePage({ limit: 20, offset: 40, total_count: 45 }, 5)).toMatchObject({
      previousOffset: 20,
      nextOffset: null,
      text: 'Showing 41–45 of 45',
    });
  });

  it('does not step before the first row', () => {
    expect(describePage({ limit: 20, offset: 10, total_count: 45 }, 20).previousOffset).toBe(0);
  });

  it('describes an empty list', () => {
    expect(describePage({ limit: 20, offset: 0, total_count: 0 }, 0)).toMatchObject({
      first: 0,
      previousOffset: null,
      nextOffset: null,
      text: 'Showing 0 of 0',
    });
  });
});
