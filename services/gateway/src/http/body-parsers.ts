import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json, urlencoded } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';

/**
 * JSON (what Plivo's SDKs send) and form-encoded bodies (what telephony webhooks send), with a
 * size limit. Parser failures become coded errors, so they leave in Plivo's error shape.
 */
export function bodyParsers(limitBytes: number): RequestHandler[] {
  return [
    coded(json({ limit: limitBytes, strict: false })),
    coded(urlencoded({ limit: limitBytes, extended: false, parameterLimit: 200 })),
  ];
}

function coded(parser: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    void parser(req, res, (err?: unknown) => next(err === undefined ? undefined : toCodedError(err)));
  };
}

function toCodedError(err: unknown): unknown {
  const type = (err as { type?: string } | null)?.type;
  switch (type) {
    case 'entity.parse.failed':
      return new CodedError(ErrorCodes.VALIDATION, 'request body is not valid JSON', { field: 'body' });
    case 'entity.too.large':
      return new CodedError(ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large', { field: 'body' });
    case 'parameters.too.many':
      return new CodedError(ErrorCodes.VALIDATION, 'request body has too many parameters', { field: 'body' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new CodedError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'unsupported body encoding or charset', {
        field: 'body',
      });
    case 'request.aborted':
    case 'request.size.invalid':
      return new CodedError(ErrorCodes.VALIDATION, 'request body is incomplete', { field: 'body' });
    default:
      return err;
  }
}
