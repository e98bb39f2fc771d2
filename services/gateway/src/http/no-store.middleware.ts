import type { NextFunction, Request, Response } from 'express';

/**
 * Every answer of the API, the webhooks and the admin routes is its caller's alone: sessions with
 * parties' numbers and PINs, an account's keys, a call's instructions. No cache, shared or the
 * browser's, is to keep any: a shared cache does not key its entries on `X-Operator-Key`, and a
 * browser may keep a Basic-authenticated answer on disk. The console's files, served before this,
 * say their own (`console-assets.middleware.ts`).
 */
export function noStoreMiddleware(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}
