import { isolatedIndices } from './isolated-points';

describe('isolatedIndices', () => {
  it('finds values a line cannot draw: those with gaps (or the ends) on both sides', () => {
    expect(isolatedIndices([null, 2, null, 3, 4, null, 5])).toEqual([1, 6]);
    expect(isolatedIndices([7])).toEqual([0]);
    expect(isolatedIndices([1, 2])).toEqual([]);
    expect(isolatedIndices([null, null])).toEqual([]);
  });
});
