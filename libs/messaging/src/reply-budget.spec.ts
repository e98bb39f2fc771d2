import { jsonBytes, pageWithinReplyBudget } from './reply-budget';

describe('pageWithinReplyBudget', () => {
  const item = (chars: number) => ({ url: 'x'.repeat(chars) });

  it('gives every item when they fit', () => {
    const items = [item(10), item(10), item(10)];
    expect(pageWithinReplyBudget(items, jsonBytes, 1000)).toEqual(items);
  });

  it('stops before the first item that would take the page past its budget', () => {
    const items = [item(400), item(400), item(400)];
    const size = jsonBytes(items[0]);
    expect(pageWithinReplyBudget(items, jsonBytes, 2 * size)).toHaveLength(2);
    expect(pageWithinReplyBudget(items, jsonBytes, 2 * size - 1)).toHaveLength(1);
  });

  it('always gives the first item, however large, so that a paged read moves on', () => {
    expect(pageWithinReplyBudget([item(5000), item(1)], jsonBytes, 100)).toEqual([item(5000)]);
  });

  it('counts what the caller says an item takes (nothing, for one it looks at and leaves out)', () => {
    const items = [0, 50, 0, 50, 0];
    expect(pageWithinReplyBudget(items, (n) => n, 100)).toEqual([0, 50, 0, 50, 0]);
    expect(pageWithinReplyBudget(items, (n) => n, 99)).toEqual([0, 50, 0]);
  });

  it('measures bytes, not characters', () => {
    expect(jsonBytes('é')).toBe(4); // the quotes and two bytes
  });
});
