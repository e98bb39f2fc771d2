/**
 * Bytes the items of one paged reply may take together: well under NATS's max_payload (1 MB by
 * default), so a page of the largest items a tenant can make (every URL setting at its longest)
 * still travels, with room to spare for the envelope.
 */
export const REPLY_PAGE_BUDGET_BYTES = 256 * 1024;

/** Room kept in every reply for its headers (the correlation id) and envelope. */
export const REPLY_HEADER_ROOM_BYTES = 8 * 1024;

/** What an item takes in a reply: its JSON, as the RPC server encodes it. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

/**
 * The first of `items` that fit `budget` bytes together (`sizeOf` each; its JSON by default), and
 * always the first one, whatever its size (its own schema bounds it): a paged reply then always
 * moves on. The caller says `more` when it gives fewer than it read.
 */
export function pageWithinReplyBudget<T>(
  items: readonly T[],
  sizeOf: (item: T) => number = jsonBytes,
  budget = REPLY_PAGE_BUDGET_BYTES,
): T[] {
  const page: T[] = [];
  let used = 0;
  for (const item of items) {
    used += sizeOf(item);
    if (page.length > 0 && used > budget) break;
    page.push(item);
  }
  return page;
}
