/** Error codes the number pool answers with (the gateway maps them to HTTP statuses). */
export const PoolErrorCodes = {
  /** No virtual number can serve this session: the message says why (empty pool, or all held). */
  EXHAUSTED: 'POOL.EXHAUSTED',
  /** Concurrent allocations for the same parties kept colliding: try again. */
  CONTENDED: 'POOL.CONTENDED',
  /** The party already holds this virtual number in another live session. */
  PARTY_CONFLICT: 'POOL.PARTY_CONFLICT',
  /** The number is already in some account's inventory. */
  NUMBER_TAKEN: 'POOL.NUMBER_TAKEN',
  /** The account holds NUMBERS_PER_ACCOUNT_MAX numbers already. */
  INVENTORY_FULL: 'POOL.INVENTORY_FULL',
} as const;
