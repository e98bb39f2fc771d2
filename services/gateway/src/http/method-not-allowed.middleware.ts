import type { Express, NextFunction, Request, Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';

export interface RouteLayer {
  route?: { path?: unknown; methods: Record<string, boolean> };
  match(path: string): unknown;
}

/** A first path segment with nothing of a pattern in it (no parameter, wildcard, group or escape). */
const LITERAL_SEGMENT = /^[A-Za-z0-9_.~-]*$/;

/** The first segment of a path, lower-cased (routes match whatever the case): '' for `/`. */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end < 0 ? path.slice(1) : path.slice(1, end)).toLowerCase();
}

/**
 * The route layers a request path can match, found by its first segment: a layer whose path starts
 * with a literal segment can match only paths that start with it; the rest (a parameter first, or a
 * path that is no string) are tried for every path. Built once the routes are in place: matching a
 * request against every route (hundreds, each a regular expression) cost a webhook more CPU than its
 * own handler.
 */
export class RouteLayerIndex {
  private readonly bySegment = new Map<string, RouteLayer[]>();
  private readonly anySegment: RouteLayer[] = [];
  /** How many layers there were when indexed (the stack grows while the application starts). */
  readonly size: number;

  constructor(readonly layers: readonly RouteLayer[]) {
    this.size = layers.length;
    for (const layer of layers) {
      if (!layer.route) continue;
      const path = layer.route.path;
      const segment = typeof path === 'string' && path.startsWith('/') ? firstSegment(path) : undefined;
      if (segment === undefined || !LITERAL_SEGMENT.test(segment)) {
        this.anySegment.push(layer);
        continue;
      }
      const same = this.bySegment.get(segment);
      if (same) same.push(layer);
      else this.bySegment.set(segment, [layer]);
    }
  }

  /** Whether some route matches `path`, and the methods those routes take (upper case). */
  methodsFor(path: string): { known: boolean; allowed: Set<string> } {
    const allowed = new Set<string>();
    let known = false;
    for (const list of [this.bySegment.get(firstSegment(path)) ?? [], this.anySegment]) {
      for (const layer of list) {
        if (!layer.match(path)) continue;
        known = true;
        for (const [method, on] of Object.entries(layer.route!.methods))
          if (on) allowed.add(method.toUpperCase());
      }
    }
    return { known, allowed };
  }
}

/**
 * 405 with an `Allow` header for a method a known path does not take, on every path the gateway
 * serves: derived from the routes themselves, so a new route is covered without a line here. A
 * path no route knows goes on to the 404. (Routes registered for every method decide themselves.)
 */
export function methodNotAllowedMiddleware(express: Express) {
  let index: RouteLayerIndex | undefined;
  return (req: Request, _res: Response, next: NextFunction): void => {
    const layers = (express as unknown as { router?: { stack: RouteLayer[] } }).router?.stack ?? [];
    // Routes are added while the application starts: indexed again should the stack have grown.
    if (index?.layers !== layers || index.size !== layers.length) index = new RouteLayerIndex(layers);
    const { known, allowed } = index.methodsFor(req.path);
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
