import { guardedIdOf } from '@maskline/persistence';
import { ofAccount } from './virtual-number.repository';

describe('a write to one number of an account', () => {
  it('sends its account check to the store with the write, never checked on a copy read before (a number changes account when taken)', () => {
    expect(guardedIdOf({ _id: '+14155550100', accountId: 'MA1' })).toBeDefined();
    expect(guardedIdOf(ofAccount('MA1', '+14155550100'))).toBeUndefined();
    expect(ofAccount('MA1', '+14155550100')).toMatchObject({ _id: '+14155550100', accountId: 'MA1' });
  });
});
