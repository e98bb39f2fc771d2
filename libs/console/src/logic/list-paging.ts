import type { ListMeta } from './console-session.types';

/** Where a page of a Plivo-style list sits, and where Previous and Next lead. */
export interface PageInfo {
  /** 1-based index of the first row shown; 0 when the page is empty. */
  first: number;
  last: number;
  total: number;
  previousOffset: number | null;
  nextOffset: number | null;
  /** "Showing 21–40 of 45". */
  text: string;
}

export function describePage(meta: ListMeta, rowsOnPage: number): PageInfo {
  const limit = Math.max(1, meta.limit);
  const offset = Math.max(0, meta.offset);
  const total = Math.max(0, meta.total_count);
  const first = rowsOnPage > 0 ? offset + 1 : 0;
  const last = offset + rowsOnPage;
  const previousOffset = offset > 0 ? Math.max(0, offset - limit) : null;
  const nextOffset = offset + limit < total ? offset + limit : null;
  const text = rowsOnPage > 0 ? `Showing ${first}–${last} of ${total}` : `Showing 0 of ${total}`;
  return { first, last, total, previousOffset, nextOffset, text };
}
