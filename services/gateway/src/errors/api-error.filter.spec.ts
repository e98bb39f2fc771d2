import type { ArgumentsHost } from '@nestjs/common';
import pino from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { ApiErrorFilter } from './api-error.filter';

/** What the filter answers for an error thrown on `path`. */
function answer(exception: unknown, path = '/v1/Account/MA1/Number/') {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const res = {
    headersSent: false,
    setHeader: (k: string, v: string) => (sent.headers[k] = v),
    status: (s: number) => {
      sent.status = s;
      return { json: (b: unknown) => (sent.body = b) };
    },
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({ method: 'GET', path }) }),
  } as unknown as ArgumentsHost;
  new ApiErrorFilter(pino({ level: 'silent' })).catch(exception, host);
  return sent;
}

describe('ApiErrorFilter', () => {
  it('answers a store that did not answer in time with a retryable 503, never a 500', () => {
    const timeout = Object.assign(new Error('Timed out during socket read (3999ms)'), {
      name: 'MongoOperationTimeoutError',
    });
    expect(answer(timeout)).toMatchObject({
      status: 503,
      body: { error: 'the account store is temporarily unavailable; try again' },
    });
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { name: 'MongoNetworkError' });
    expect(answer(unreachable).status).toBe(503);
  });

  it('keeps the internals of an unknown error out of the answer', () => {
    expect(answer(new Error('secret detail'))).toMatchObject({
      status: 500,
      body: { error: 'internal error' },
    });
    expect(answer(new CodedError(ErrorCodes.VALIDATION, 'limit must be an integer'))).toMatchObject({
      status: 400,
      body: { error: 'limit must be an integer' },
    });
  });

  it('tells a tenant over its reads of history, in either API’s shape, when to try again', () => {
    const own = new CodedError(ErrorCodes.HISTORY_READS_LIMITED, 'too many reads of history at once', {
      details: { retryAfterSeconds: 10 },
    });
    expect(answer(own)).toMatchObject({
      status: 429,
      headers: { 'Retry-After': '10' },
      body: { error: 'too many reads of history at once' },
    });
    const busy = new CodedError(ErrorCodes.HISTORY_READS_BUSY, 'retry shortly', {
      retryable: true,
      details: { retryAfterSeconds: 1 },
    });
    expect(answer(busy, '/v1/Services/KS1/Sessions')).toMatchObject({
      status: 503,
      headers: { 'Retry-After': '1' },
      body: { code: 20503, status: 503, message: 'retry shortly' },
    });
    expect(answer(own, '/v1/Services/KS1/Sessions').body).toMatchObject({ code: 20429, status: 429 });
  });
});
