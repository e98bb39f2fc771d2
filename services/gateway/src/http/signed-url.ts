import type { Request } from 'express';

/**
 * The URL a provider signed for this request: the public base and this request's path and query
 * (an absolute-form request target is reduced to those, never spliced in whole).
 */
export function signedUrlOf(publicBaseUrl: string, req: Request): string {
  const target = new URL(req.originalUrl, 'http://request.target');
  return `${publicBaseUrl.replace(/\/$/, '')}${target.pathname}${target.search}`;
}
