import { CodedError, IDEMPOTENCY_KEY_HEADER } from '@maskline/contracts';
import { keyedDigest } from '@maskline/crypto';

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

/**
 * What a keyed request said, as the key's claim keeps it: a keyed digest (HMAC-SHA256 under `key`, the
 * account-token pepper, which does not rotate) of the validated body with its keys sorted, so the
 * same request always digests the same. Keyed, as a body holds the parties' numbers and their PINs:
 * a plain SHA-256 of it, kept with the key for a day or more, gave back a session's PINs to whoever
 * read the store or NATS (10^8 guesses for two 4-digit PINs).
 */
export function requestDigestOf(key: Buffer, body: object): string {
  const sorted = JSON.stringify(body, Object.keys(body).sort());
  return keyedDigest(key, 'session-create-request', sorted);
}
