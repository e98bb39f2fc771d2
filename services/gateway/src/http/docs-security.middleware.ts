import type { NextFunction, Request, Response } from 'express';

/** What Swagger UI needs and nothing more: its own files, its inline styles and icons (data: URLs). */
const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/**
 * The API's docs (`/docs`, Swagger UI) are served from the console's origin: a script that ran there
 * could read the console's session and CSRF token with a signed-in operator's cookie. Under this
 * policy only the docs' own files run, and no other site may frame them.
 */
export function docsSecurityMiddleware(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
}
