import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';

/**
 * Validates request DTOs (the same classes the OpenAPI document is generated from). The first
 * problem becomes a 400 naming the parameter and the rule. Unknown parameters are dropped,
 * as Plivo's API ignores them (its SDKs send a few).
 */
export function plivoValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => toCodedError(errors),
  });
}

/** Type and format rules say more than range rules about a wrong value: report them first. */
const PRIORITY = [
  'isDefined',
  'isString',
  'isInt',
  'isBoolean',
  'isIn',
  'matches',
  'isPlivoUrl',
  'isLength',
  'min',
  'max',
];

function toCodedError(errors: ValidationError[], prefix = ''): CodedError {
  const first = errors[0];
  if (!first) return new CodedError(ErrorCodes.VALIDATION, 'request is invalid');
  const field = `${prefix}${first.property}`;
  if (first.constraints) {
    const names = Object.keys(first.constraints).sort((a, b) => rank(a) - rank(b));
    const message = first.constraints[names[0]] ?? 'is invalid';
    return new CodedError(
      ErrorCodes.VALIDATION,
      message.startsWith(field) ? message : `${field}: ${message}`,
      { field },
    );
  }
  if (first.children && first.children.length > 0) return toCodedError(first.children, `${field}.`);
  return new CodedError(ErrorCodes.VALIDATION, `${field} is invalid`, { field });
}

function rank(constraint: string): number {
  const i = PRIORITY.indexOf(constraint);
  return i < 0 ? PRIORITY.length : i;
}
