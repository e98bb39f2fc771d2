import type { OutsideContact } from './proxy-out-of-session';

/** For unit specs: a stranger's text to a Proxy Service's number. */
export const OUTSIDE_TEXT: OutsideContact = {
  type: 'Message',
  resourceSid: 'SM00000000000000000000000000000001',
  from: '+14155550111',
  number: '+14155550199',
  owner: {
    accountId: 'MA000000000000000001',
    subaccountId: null,
    serviceSid: 'KS00000000000000000000000000000001',
  },
};
