import type { NextFunction, Request, Response } from 'express';
import { CORRELATION_ID_HEADER } from '@maskline/contracts';
import { acceptOrCreateCorrelationId, runWithContext } from '@maskline/observability';

/**
 * Takes the correlation id from `X-Request-Id` (or makes one), returns it in the response header,
 * and runs the rest of the request inside its context so logs and NATS headers carry it.
 */
export function correlationIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const correlationId = acceptOrCreateCorrelationId(req.header(CORRELATION_ID_HEADER));
  res.setHeader(CORRELATION_ID_HEADER, correlationId);
  runWithContext({ correlationId }, () => next());
}
