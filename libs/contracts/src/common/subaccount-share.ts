/** A subaccount's share where no setting says otherwise (history reads in flight, message relay slots). */
export const SUBACCOUNT_SHARE_PERCENT = 50;

/**
 * A subaccount's share of a figure its main account's subaccounts share with it (a rate, a burst,
 * a bound on live sessions, slots): `percent` of it, rounded down but at least one (so all of a
 * figure of 1). One subaccount, a reseller's customer, never takes the whole of what its main
 * account and siblings share; several at once still can.
 */
export function subaccountShare(ofMain: number, percent = SUBACCOUNT_SHARE_PERCENT): number {
  return Math.max(1, Math.floor((ofMain * percent) / 100));
}
