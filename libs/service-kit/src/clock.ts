/** The time, in epoch milliseconds: injected (`@Inject(CLOCK)`), so domain logic can be tested at any instant. */
export type Clock = () => number;

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = () => Date.now();
