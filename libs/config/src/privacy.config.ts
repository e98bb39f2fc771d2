import { keySchema } from '@maskline/crypto';
import { envInt } from './env-types';
import { secret } from './load-config';

/**
 * What the services that keep party numbers in their records (session-service, the callback
 * dispatcher) share: when an ended session's numbers give way to their digest, under which key,
 * and how often the sweeps run. How long each record is kept is each service's own setting.
 */
export const privacyConfigShape = {
  /** HMAC key (base64 of 32 bytes) for the digests that replace party numbers (the same in every service). */
  PARTY_REDACTION_KEY: secret(keySchema),
  /**
   * Hours after a session ends before its parties' numbers are replaced by their digest (in the
   * session, its dead letters). Long enough for a support question on yesterday's call; an account
   * can opt out (operator API).
   */
  PARTY_REDACTION_AFTER_HOURS: envInt(24, 1, 24 * 365),
  /**
   * How often the retention and redaction sweeps run: once per interval across the replicas (the
   * one that takes the turn), draining what became due since. Every sweep reads collections that
   * grow with history (a scan each on FerretDB), so seldom is cheap; ten minutes is fine-grained
   * next to retention in days and redaction in hours.
   */
  RETENTION_SWEEP_INTERVAL_MS: envInt(600000, 100, 3600000),
};

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** Records of sessions that ended before this have their parties' numbers redacted. */
export function redactionCutoff(config: { PARTY_REDACTION_AFTER_HOURS: number }, now: number): Date {
  return new Date(now - config.PARTY_REDACTION_AFTER_HOURS * HOUR_MS);
}

/** Records older than this (a retention of `days`) are deleted. */
export function retentionCutoff(days: number, now: number): Date {
  return new Date(now - days * DAY_MS);
}
