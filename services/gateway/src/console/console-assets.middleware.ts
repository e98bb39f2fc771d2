import { existsSync } from 'node:fs';
import * as path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { currentCorrelationId } from '@maskline/observability';
import { ownFilesOnlyPolicy, setPageSecurityHeaders } from '../http/page-security-headers';

/** Where the console's built files are served from. */
export const CONSOLE_PATH = '/console';

/** The console loads only its own script, style and data (its API calls go to this same origin). */
const CONTENT_SECURITY_POLICY = ownFilesOnlyPolicy();

/**
 * By default the console is built into the gateway's own build, `dist/services/gateway/console`
 * (what its image ships): this file runs from `<build>/services/gateway/src/console/`.
 */
export function defaultConsoleDir(): string {
  return path.resolve(__dirname, '..', '..', '..', '..', 'console');
}

/**
 * Serves the built console under `/console`, with a strict CSP. When it was not built, the page
 * says how to build it, in the API's own error shape.
 */
export function consoleAssetsMiddleware(dir: string) {
  const serve = express.static(dir, {
    index: 'index.html',
    fallthrough: false,
    // The file names are fixed: a browser revalidates each (ETag), so a new build is used at once.
    setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
  });
  let built = false;
  return (req: Request, res: Response, next: NextFunction) => {
    // Mounted at /console: the console's own API (`/console/api/...`) is an ordinary route.
    if (req.path === '/api' || req.path.startsWith('/api/')) return next();
    setPageSecurityHeaders(res, CONTENT_SECURITY_POLICY);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      res
        .status(405)
        .json({ api_id: currentCorrelationId() ?? '', error: `${req.method} is not allowed here` });
      return;
    }
    // Looked for until found (a build may come after the gateway started), then not again.
    built ||= existsSync(path.join(dir, 'index.html'));
    if (!built) {
      res.status(404).json({
        api_id: currentCorrelationId() ?? '',
        error: 'the console is not built: run `npm run build` (or `npm start`, which builds it)',
      });
      return;
    }
    serve(req, res, (err?: unknown) => {
      if (!err) return next();
      const status = (err as { status?: number }).status ?? 500;
      if (status >= 500) return next(err);
      // A missing file, a malformed or forbidden path (`%00`, `..`): the API's own error shape.
      res.status(status).json({
        api_id: currentCorrelationId() ?? '',
        error: status === 404 ? 'resource not found' : `the path is not allowed (HTTP ${status})`,
      });
    });
  };
}
