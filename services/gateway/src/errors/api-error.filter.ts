import { ArgumentsHost, Catch, HttpException, Inject, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { LOGGER, currentCorrelationId } from '@maskline/observability';
import { isStoreUnavailableError } from '@maskline/persistence';
import { isTwilioApiPath, twilioErrorBody } from '../twilio/twilio-error-codes';
import { httpStatusForCode } from './http-status.map';

/** Plivo's error body: `{ api_id, error }`. */
export interface PlivoErrorBody {
  api_id: string;
  error: string;
}

/**
 * The gateway's one exception filter: every error leaves with the status its code maps to, in the
 * error body of the API it came from: Twilio's on the Twilio-compatible API (`/v1/Services…`),
 * Plivo's everywhere else. Messages of server faults never carry internals.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const { status, message, code } = this.describe(exception);
    if (status >= 500) {
      this.logger.error({ err: exception, code, method: req.method, path: req.path }, 'request failed');
    } else {
      this.logger.info({ code, status, method: req.method, path: req.path }, 'request rejected');
    }
    if (res.headersSent) return;
    const details = exception instanceof CodedError ? exception.details : undefined;
    if (typeof details?.retryAfterSeconds === 'number')
      res.setHeader('Retry-After', String(details.retryAfterSeconds));
    if (typeof details?.allow === 'string') res.setHeader('Allow', details.allow);
    if (isTwilioApiPath(req.path)) {
      res.status(status).json(twilioErrorBody(code, status, message));
      return;
    }
    const body: PlivoErrorBody = { api_id: currentCorrelationId() ?? '', error: message };
    res.status(status).json(body);
  }

  private describe(exception: unknown): { status: number; message: string; code: string } {
    if (exception instanceof CodedError) {
      const status = httpStatusForCode(exception.code);
      return {
        status,
        code: exception.code,
        message: status >= 500 && status !== 503 ? 'internal error' : exception.message,
      };
    }
    // The gateway's own store (accounts, keys) not answering in time: retryable, like any dependency.
    if (isStoreUnavailableError(exception)) {
      return {
        status: 503,
        code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
        message: 'the account store is temporarily unavailable; try again',
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const message = status === 404 ? 'resource not found' : exception.message;
      return { status, code: `HTTP.${status}`, message };
    }
    return { status: 500, code: ErrorCodes.INTERNAL, message: 'internal error' };
  }
}
