/** Plivo's list `meta`: where this page sits and links to the neighbouring pages (null at the ends). */
export interface PlivoMeta {
  limit: number;
  offset: number;
  total_count: number;
  next: string | null;
  previous: string | null;
}

export function plivoMeta(
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  limit: number,
  offset: number,
  total: number,
): PlivoMeta {
  const link = (o: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...query, limit, offset: o })) {
      if (v !== undefined && String(v) !== '') params.set(k, String(v));
    }
    return `${path}?${params.toString()}`;
  };
  return {
    limit,
    offset,
    total_count: total,
    next: offset + limit < total ? link(offset + limit) : null,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
  };
}
