import type { Express, NextFunction, Request, Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): unknown;
}

/**
 * 405 with an `Allow` header for a method a known path does not take, on every path the gateway
 * serves: derived from the routes themselves, so a new route is covered without a line here. A
 * path no route knows goes on to the 404. (Routes registered for every method decide themselves.)
 */
export function methodNotAllowedMiddleware(express: Express) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const layers = (express as unknown as { router?: { stack: RouteLayer[] } }).router?.stack ?? [];
    const allowed = new Set<string>();
    let known = false;
    for (const layer of layers) {
      if (!layer.route || !layer.match(req.path)) continue;
      known = true;
      for (const [method, on] of Object.entries(layer.route.methods))
        if (on) allowed.add(method.toUpperCase());
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (!known || allowed.has(method)) return next();
    const allow = [...allowed].sort().join(', ');
    next(
      new CodedError(
        ErrorCodes.METHOD_NOT_ALLOWED,
        `method ${req.method} is not allowed here; use ${allow}`,
        {
          details: { allow },
        },
      ),
    );
  };
}
