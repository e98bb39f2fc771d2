import type { NextFunction, Request, Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';

/**
 * Query parameters are plain names with one value each. A repeated parameter (`limit=1&limit=2`),
 * an array (`limit[]=1`) or an operator (`first_party[$ne]=x`) is a 400 that names it: never
 * silently dropped, never reaching a store filter.
 */
export function queryShapeMiddleware(req: Request, _res: Response, next: NextFunction): void {
  for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
    const shown = name.slice(0, 64);
    if (/[[\]$]/.test(name) || name.includes('.')) {
      return next(
        new CodedError(ErrorCodes.VALIDATION, `query parameter ${shown} is not a plain parameter name`, {
          field: shown,
        }),
      );
    }
    if (typeof value !== 'string') {
      return next(
        new CodedError(
          ErrorCodes.VALIDATION,
          `query parameter ${shown} must be given once, as a plain value`,
          {
            field: shown,
          },
        ),
      );
    }
  }
  next();
}
