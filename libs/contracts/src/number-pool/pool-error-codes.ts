/** Error codes the number pool answers with (the gateway maps them to HTTP statuses). */
export const PoolErrorCodes = {
  /** No virtual number can serve this session: the message says why (empty pool, or all held). */
  EXHAUSTED: 'POOL.EXHAUSTED',
  /** Concurrent allocations for the same parties kept colliding: try again. */
  CONTENDED: 'POOL.CONTENDED',
  /** The party already holds this virtual number in another live session. */
  PARTY_CONFLICT: 'POOL.PARTY_CONFLICT',
  /**
   * A party is one of the account's own virtual numbers (a call or text to it would come back in
   * through Maskline, round and round). `details.partyIndex` is its place in the request's parties.
   */
  PARTY_IS_VIRTUAL_NUMBER: 'POOL.PARTY_IS_VIRTUAL_NUMBER',
  /** The number is already in some account's inventory. */
  NUMBER_TAKEN: 'POOL.NUMBER_TAKEN',
  /**
   * The provider account the request's credentials name does not hold the number (the provider
   * said so): only the holder of a number may bring it, or route anything through it.
   */
  NUMBER_NOT_HELD: 'POOL.NUMBER_NOT_HELD',
  /** The provider refused the credentials themselves (401 or 403): a wrong auth id or token. */
  PROVIDER_CREDENTIALS_REFUSED: 'POOL.PROVIDER_CREDENTIALS_REFUSED',
  /**
   * The provider could not say whether its account holds the number (no answer in time, 5xx, 429,
   * its breaker open): nothing was changed, and the request may succeed if repeated.
   */
  PROVIDER_UNAVAILABLE: 'POOL.PROVIDER_UNAVAILABLE',
  /** The account holds NUMBERS_PER_ACCOUNT_MAX numbers already. */
  INVENTORY_FULL: 'POOL.INVENTORY_FULL',
} as const;
