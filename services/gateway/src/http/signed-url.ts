import type { Request } from 'express';

/**
 * The URL a provider signed for this request: the public base and this request's path and query
 * (an absolute-form request target is reduced to those, never spliced in whole).
 */
export function signedUrlOf(publicBaseUrl: string, req: Request): string | null {
  let target: URL;
  try {
    target = new URL(req.originalUrl, 'http://request.target');
  } catch {
    return null; // an absolute-form target that is no URL (a port out of range): nothing was signed for it
  }
  return `${publicBaseUrl.replace(/\/$/, '')}${target.pathname}${target.search}`;
}
