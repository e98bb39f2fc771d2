import { sameHolder } from './same-holder';

describe('sameHolder', () => {
  it('takes a missing subaccount and null alike as the main account', () => {
    expect(sameHolder(undefined, null)).toBe(true);
    expect(sameHolder(null, undefined)).toBe(true);
    expect(sameHolder(undefined, undefined)).toBe(true);
  });

  it('tells a subaccount from the main account and from a sibling', () => {
    expect(sameHolder('SA1', null)).toBe(false);
    expect(sameHolder(undefined, 'SA1')).toBe(false);
    expect(sameHolder('SA1', 'SA2')).toBe(false);
    expect(sameHolder('SA1', 'SA1')).toBe(true);
  });
});
