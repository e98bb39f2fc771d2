import { ExhaustionCounter } from './exhaustion-counter';
import { utilizationOfScope } from './utilization-summary';

const numbers = [
  { _id: '+14155550100', country: 'US', subaccountId: null },
  { _id: '+14155550101', country: 'US', subaccountId: null },
  { _id: '+4930555010', country: 'DE', subaccountId: null },
  { _id: '+4930555011', country: 'DE', subaccountId: 'SA1' },
];
const hold = (virtualNumber: string, party: string, allocationId: string) => ({
  virtualNumber,
  party,
  allocationId,
});

describe('utilizationOfScope', () => {
  const holds = [
    hold('+14155550100', '+1A', 's1'),
    hold('+14155550100', '+1B', 's1'),
    hold('+14155550101', '+1A', 's2'),
    hold('+14155550101', '+1C', 's2'),
    hold('+4930555011', '+49X', 's3'),
  ];

  it('counts numbers and numbers in use per country for the main account (its own numbers and their holds)', () => {
    const u = utilizationOfScope(numbers, holds, null);
    expect(u.numbersTotal).toBe(3);
    expect(u.liveSessions).toBe(2); // the subaccount's session is on its own number
    expect(u.numbersByCountry).toEqual([
      { country: 'DE', numbersTotal: 1, numbersInUse: 0 },
      { country: 'US', numbersTotal: 2, numbersInUse: 2 },
    ]);
    expect(u.delta).toBe(2); // +1A holds two sessions
    expect(u.plivoRuleNumbers).toBe(3);
  });

  it('shows a subaccount only its numbers and the sessions on them', () => {
    const u = utilizationOfScope(numbers, holds, 'SA1');
    expect(u.numbersTotal).toBe(1);
    expect(u.liveSessions).toBe(1);
    expect(u.numbersByCountry).toEqual([{ country: 'DE', numbersTotal: 1, numbersInUse: 1 }]);
  });
});

describe('ExhaustionCounter', () => {
  it('counts refusals per owner and minute, hands them over once, and takes back what was not written', () => {
    const c = new ExhaustionCounter();
    c.count('MA1', null, 60_000);
    c.count('MA1', null, 119_999);
    c.count('MA1', 'SA1', 60_000);
    c.count('MA1', null, 120_000);
    const taken = c.take();
    expect(taken).toEqual(
      expect.arrayContaining([
        { accountId: 'MA1', subaccountId: null, minute: 60_000, count: 2 },
        { accountId: 'MA1', subaccountId: 'SA1', minute: 60_000, count: 1 },
        { accountId: 'MA1', subaccountId: null, minute: 120_000, count: 1 },
      ]),
    );
    expect(c.take()).toEqual([]);
    c.restore(taken.slice(0, 1));
    expect(c.take()).toEqual([taken[0]]);
  });
});
