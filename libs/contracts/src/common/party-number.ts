import { z } from 'zod';
import { keyedDigest } from '@maskline/crypto';
import { e164Schema } from './primitives.schema';

/**
 * A party's number once its session has ended and the redaction period has passed: a keyed digest
 * in its place (HMAC-SHA256 under PARTY_REDACTION_KEY, 80 bits shown), of the account and the
 * number. Within an account the same number always gives the same digest, so a party's records
 * still go together and a filter by number still finds them; across accounts the digests differ,
 * so two tenants cannot link one person through their records. The number is gone from these records.
 */
export function redactPartyNumber(key: Buffer, accountId: string, number: string): string {
  return `${REDACTED_PREFIX}${keyedDigest(key, 'party-number', `${accountId}:${number}`).slice(0, 20)}`;
}

const REDACTED_PREFIX = 'redacted:';

/**
 * Which PARTY_REDACTION_KEY made a digest (a digest of the key itself, never the key): kept with
 * digests written ahead of redaction, so that after the key changes the sweep redacts those records
 * under the new key instead of putting the old key's digests in place.
 */
export function redactionKeyId(key: Buffer): string {
  return keyedDigest(key, 'party-redaction-key-id', 'key').slice(0, 16);
}

export const redactedPartySchema = z.string().regex(/^redacted:[0-9a-f]{20}$/, 'must be a redacted number');

/** A party's number as records keep it: E.164, or its digest after the redaction period. */
export const storedPartySchema = z.union([e164Schema, redactedPartySchema]);

export function isRedactedParty(value: string | null | undefined): boolean {
  return typeof value === 'string' && value.startsWith(REDACTED_PREFIX);
}
