import { createHmac, timingSafeEqual } from 'node:crypto';

export type Params = Record<string, string | string[]>;

function sortedQuery(params: Params): string {
  return Object.keys(params)
    .sort()
    .flatMap((k) =>
      [params[k]]
        .flat()
        .sort()
        .map((v) => `${k}=${v}`),
    )
    .join('&');
}

function sortedParams(params: Params): string {
  return Object.keys(params)
    .sort()
    .flatMap((k) =>
      [params[k]]
        .flat()
        .sort()
        .map((v) => `${k}${v}`),
    )
    .join('');
}

function queryOf(url: URL): Params {
  const out: Params = {};
  for (const [k, v] of url.searchParams) out[k] = k in out ? [...[out[k]].flat(), v] : v;
  return out;
}

/**
 * The string Plivo's X-Plivo-Signature-V3 signs (before `.nonce`): the URL without query, then the
 * sorted query (merged with the params for GET); for POST, `.` and the params as `keyvalue` pairs.
 */
export function plivoV3SignedUrl(method: 'GET' | 'POST', uri: string, params: Params): string {
  const url = new URL(uri);
  const base = `${url.protocol}//${url.host}${url.pathname}`;
  if (method === 'GET') {
    const merged: Params = { ...queryOf(url) };
    for (const [k, v] of Object.entries(params))
      merged[k] = k in merged ? [...[merged[k]].flat(), ...[v].flat()] : v;
    const q = sortedQuery(merged);
    return q ? `${base}?${q}` : base;
  }
  const q = sortedQuery(queryOf(url));
  if (Object.keys(params).length === 0) return q ? `${base}?${q}` : base;
  return `${base}?${q}${q ? '.' : ''}${sortedParams(params)}`;
}

export function plivoV3Signature(
  method: 'GET' | 'POST',
  uri: string,
  params: Params,
  nonce: string,
  authToken: string,
): string {
  return createHmac('sha256', authToken)
    .update(`${plivoV3SignedUrl(method, uri, params)}.${nonce}`)
    .digest('base64');
}

/** Valid when the computed signature equals any of the comma-separated ones (compared in constant time). */
export function verifyPlivoV3Signature(
  method: 'GET' | 'POST',
  uri: string,
  params: Params,
  nonce: string,
  authToken: string,
  header: string,
): boolean {
  const expected = Buffer.from(plivoV3Signature(method, uri, params, nonce, authToken));
  return header.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
