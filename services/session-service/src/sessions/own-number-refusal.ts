import { CodedError, PoolErrorCodes } from '@maskline/contracts';

/**
 * The pool's refusal of a party that is one of the account's own virtual numbers, as a validation
 * error naming the request's field (`fieldOf` its place among the parties sent); any other error as
 * it was.
 */
export function ownNumberRefusal(err: unknown, fieldOf: (partyIndex: number) => string): unknown {
  if (!(err instanceof CodedError) || err.code !== PoolErrorCodes.PARTY_IS_VIRTUAL_NUMBER) return err;
  const partyIndex = err.details?.partyIndex;
  const field = fieldOf(typeof partyIndex === 'number' ? partyIndex : 0);
  return CodedError.validation(
    field,
    `${field} must not be one of this account's virtual numbers: calls and texts to it would come back in through Maskline`,
  );
}
