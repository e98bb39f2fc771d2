import { CallErrorCodes } from '../calls/call-error-codes';
import { PoolErrorCodes } from '../number-pool/pool-error-codes';
import { PinErrorCodes } from '../pin-auth/pin-error-codes';
import { SessionErrorCodes } from '../sessions/session-error-codes';
import { ErrorCodes } from './error-codes';

/** Every error code any service answers with, by family. */
export const ALL_ERROR_CODES = {
  ...ErrorCodes,
  ...CallErrorCodes,
  ...PoolErrorCodes,
  ...PinErrorCodes,
  ...SessionErrorCodes,
};

export type ErrorCode =
  | (typeof ErrorCodes)[keyof typeof ErrorCodes]
  | (typeof CallErrorCodes)[keyof typeof CallErrorCodes]
  | (typeof PoolErrorCodes)[keyof typeof PoolErrorCodes]
  | (typeof PinErrorCodes)[keyof typeof PinErrorCodes]
  | (typeof SessionErrorCodes)[keyof typeof SessionErrorCodes];

/** The part of a code before its first dot (`POOL.EXHAUSTED` → `POOL`); a code without one is its own family. */
export type ErrorFamily<C extends string = ErrorCode> = C extends `${infer F}.${string}` ? F : C;

export function errorFamilyOf(code: string): string {
  return code.split('.')[0];
}
