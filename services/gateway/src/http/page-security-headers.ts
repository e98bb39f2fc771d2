import type { Response } from 'express';

/**
 * A page that runs its own files only: no inline code, no other origin, no frames, no plugins.
 * Its calls go to this same origin. `widen` adds what one page needs beyond that (a directive's
 * whole value).
 */
const OWN_FILES_ONLY: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self'",
  'connect-src': "'self'",
  'frame-ancestors': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'object-src': "'none'",
};

/** The Content Security Policy of a page served from the console's origin, widened where it must be. */
export function ownFilesOnlyPolicy(widen: Readonly<Record<string, string>> = {}): string {
  return Object.entries({ ...OWN_FILES_ONLY, ...widen })
    .map(([directive, value]) => `${directive} ${value}`)
    .join('; ');
}

/** What every page of the console's origin says besides its policy: no sniffing, no referrer, no frames. */
export function setPageSecurityHeaders(res: Response, policy: string): void {
  res.setHeader('Content-Security-Policy', policy);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}
