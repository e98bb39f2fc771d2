import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json, urlencoded } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';

/** Deepest nesting a body may have: Plivo's parameters are flat; this leaves room and stops stack exhaustion. */
export const MAX_BODY_DEPTH = 32;
/** Keys that would reach an object's prototype if copied onto one. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON (what Plivo's SDKs send) and form-encoded bodies (what telephony webhooks send), read
 * before anything validates them: a size limit (after decompression), a depth limit (checked on
 * the raw text, before parsing), an object at the top, no prototype keys. Bodies may be sent
 * gzip-, deflate- or br-compressed; another encoding or charset is a 415, a body that cannot be
 * decompressed or parsed a 400. Every failure is a coded error, so it leaves in Plivo's shape.
 */
export function bodyParsers(limitBytes: number): RequestHandler[] {
  return [
    utf8Only,
    coded(json({ limit: limitBytes, strict: false, verify: refuseDeepNesting })),
    coded(urlencoded({ limit: limitBytes, extended: false, parameterLimit: 200 })),
  ];
}

/**
 * UTF-8 only (the depth check reads the raw bytes, which in UTF-16 could hide a quote inside a
 * character): any other charset is a 415 before a byte is read.
 */
function utf8Only(req: Request, _res: Response, next: NextFunction): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset === undefined || /^utf-?8$/i.test(charset)) return next();
  next(
    new CodedError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'the body’s charset must be utf-8', {
      field: 'Content-Type',
    }),
  );
}

function coded(parser: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    void parser(req, res, (err?: unknown) => {
      if (err !== undefined) return next(toCodedError(err));
      // JSON `null` and `""` are how some clients say "no body" (plivo-node's DELETE sends `""`).
      if (req.body === null || req.body === '') req.body = undefined;
      const problem = bodyProblem(req.body);
      next(problem ? CodedError.validation('body', problem) : undefined);
    });
  };
}

/** Counts bracket nesting outside strings, without parsing. */
function refuseDeepNesting(_req: Request, _res: Response, buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_BODY_DEPTH) throw new BodyTooDeep();
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** Thrown from `verify`: body-parser passes it on as it is, `type` included. */
class BodyTooDeep extends Error {
  static readonly TYPE = 'entity.too.deep';
  readonly type = BodyTooDeep.TYPE;
}

/** Why a parsed body is not acceptable, or undefined. */
function bodyProblem(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'request body must be an object of named parameters';
  }
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (!value || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `request body must not use the parameter name ${key}`;
      pending.push((value as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

function toCodedError(err: unknown): unknown {
  const e = err as { type?: string; status?: number; message?: string } | null;
  switch (e?.type) {
    case 'entity.parse.failed':
      return new CodedError(ErrorCodes.VALIDATION, 'request body is not valid JSON', { field: 'body' });
    case BodyTooDeep.TYPE:
      return new CodedError(
        ErrorCodes.VALIDATION,
        `request body is nested more than ${MAX_BODY_DEPTH} levels deep`,
        { field: 'body' },
      );
    case 'entity.too.large':
      return new CodedError(ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large', { field: 'body' });
    case 'parameters.too.many':
      return new CodedError(ErrorCodes.VALIDATION, 'request body has too many parameters', { field: 'body' });
    case 'encoding.unsupported':
      return new CodedError(
        ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
        'Content-Encoding must be identity, gzip, deflate or br',
        { field: 'Content-Encoding' },
      );
    case 'charset.unsupported':
      return new CodedError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'the body’s charset must be utf-8', {
        field: 'Content-Type',
      });
    case 'request.aborted':
    case 'request.size.invalid':
      return new CodedError(ErrorCodes.VALIDATION, 'request body is incomplete', { field: 'body' });
  }
  // A body that cannot be decompressed (zlib and brotli errors carry no type, only status 400).
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new CodedError(
      ErrorCodes.VALIDATION,
      'request body could not be read as its Content-Encoding says',
      {
        field: 'body',
      },
    );
  }
  return err;
}
