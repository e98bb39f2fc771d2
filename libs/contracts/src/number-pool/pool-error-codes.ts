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
  /** The account holds NUMBERS_PER_ACCOUNT_MAX numbers already. */
  INVENTORY_FULL: 'POOL.INVENTORY_FULL',
} as const;
