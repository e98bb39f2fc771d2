import type { NextFunction, Request, Response } from 'express';
import { ownFilesOnlyPolicy, setPageSecurityHeaders } from './page-security-headers';

/** What Swagger UI needs beyond its own files: its inline styles, and icons as data: URLs. */
const DOCS_POLICY = ownFilesOnlyPolicy({ 'style-src': "'self' 'unsafe-inline'", 'img-src': "'self' data:" });

/**
 * The API's docs (`/docs`, Swagger UI) are served from the console's origin: a script that ran there
 * could read the console's session and CSRF token with a signed-in operator's cookie. Under this
 * policy only the docs' own files run, and no other site may frame them.
 */
export function docsSecurityMiddleware(_req: Request, res: Response, next: NextFunction): void {
  setPageSecurityHeaders(res, DOCS_POLICY);
  next();
}
