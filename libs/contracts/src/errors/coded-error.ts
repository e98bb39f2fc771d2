import { ErrorCodes } from './error-codes';

/** The error shape on the wire (NATS replies, logs, the gateway's filter). */
export interface WireError {
  code: string;
  message: string;
  /** The request parameter at fault, when there is one. */
  field?: string;
  details?: Record<string, unknown>;
  /** True when trying again later may succeed. */
  retryable?: boolean;
}

export interface CodedErrorOptions {
  field?: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
  cause?: unknown;
}

/** The one exception base: a string code that survives NATS, and a message safe to show a user. */
export class CodedError extends Error {
  readonly code: string;
  readonly field?: string;
  readonly details?: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CodedError';
    this.code = code;
    this.field = options.field;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message };
    if (this.field !== undefined) wire.field = this.field;
    if (this.details !== undefined) wire.details = this.details;
    if (this.retryable) wire.retryable = true;
    return wire;
  }

  static fromWire(wire: WireError): CodedError {
    return new CodedError(wire.code, wire.message, {
      field: wire.field,
      details: wire.details,
      retryable: wire.retryable,
    });
  }

  static validation(field: string, message: string): CodedError {
    return new CodedError(ErrorCodes.VALIDATION, message, { field });
  }

  static notFound(message: string): CodedError {
    return new CodedError(ErrorCodes.NOT_FOUND, message);
  }
}

export function isCodedError(err: unknown): err is CodedError {
  return err instanceof CodedError;
}
