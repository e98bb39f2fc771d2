import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/** One line per request with status and latency. Never logs bodies, query strings or headers. */
export function requestLogMiddleware(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        { method: req.method, path: routeForLog(req), status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'http request',
      );
    });
    next();
  };
}

/** The path with ids masked, so logs do not collect account ids and session ids in bulk. */
function routeForLog(req: Request): string {
  return req.path.replace(/\/Account\/[^/]+/, '/Account/:auth_id');
}
