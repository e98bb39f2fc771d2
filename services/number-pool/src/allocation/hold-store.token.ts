export const HOLD_STORE = Symbol('HOLD_STORE');
