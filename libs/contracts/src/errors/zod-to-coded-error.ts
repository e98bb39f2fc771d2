import type { ZodError } from 'zod';
import { CodedError } from './coded-error';
import { ErrorCodes } from './error-codes';

/** Turns the first zod issue into a coded validation error that names the field and the rule. */
export function codedErrorFromZod(error: ZodError, what = 'payload'): CodedError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : what;
  const message = issue ? `${field}: ${issue.message}` : `${what} is invalid`;
  return new CodedError(ErrorCodes.VALIDATION, message, {
    field,
    details: {
      issues: error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })),
    },
  });
}
