import { CodedError, IDEMPOTENCY_KEY_HEADER } from '@maskline/contracts';

const IDEMPOTENCY_KEY_MAX = 255;

/**
 * The `Idempotency-Key` a request carries (null: none), checked: 1 to 255 characters. A header sent
 * twice arrives joined (`k, k`): a key of its own, not `k` (a client sends it once).
 */
export function idempotencyKeyOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (header.length === 0 || header.length > IDEMPOTENCY_KEY_MAX) {
    throw CodedError.validation(
      IDEMPOTENCY_KEY_HEADER,
      `${IDEMPOTENCY_KEY_HEADER} must be 1 to ${IDEMPOTENCY_KEY_MAX} characters`,
    );
  }
  return header;
}
