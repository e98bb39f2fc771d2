import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';

/**
 * Validates request DTOs (the same classes the OpenAPI document is generated from). A parameter
 * the DTO does not declare is a 400 that names it (a misspelt key must not pass for a default):
 * DTOs declare the extra keys Plivo's official SDKs send, and accept them. Otherwise the first
 * problem becomes a 400 naming the parameter and the rule.
 */
export function plivoValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
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
  const unknown = errors.filter((e) => e.constraints && 'whitelistValidation' in e.constraints);
  if (unknown.length > 0) {
    const names = unknown.map((e) => `${prefix}${e.property}`.slice(0, 64));
    return new CodedError(
      ErrorCodes.VALIDATION,
      `${names.length === 1 ? 'unknown parameter' : 'unknown parameters'}: ${names.join(', ')}`,
      { field: names[0] },
    );
  }
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
