import { afterAttempt, beforeAttempt, maxAttempts, type DeliveryRules } from './delivery-state-machine';
import type { SendResult } from '@maskline/net-guard';

const rules: DeliveryRules = { retryScheduleSeconds: [30, 120, 600], maxAgeSeconds: 3600 };
const T0 = Date.parse('2026-11-28T10:00:00Z');
const response = (statusCode: number, retryAfterSeconds?: number): SendResult => ({
  kind: 'response',
  statusCode,
  latencyMs: 12,
  retryAfterSeconds,
});
const noJitter = () => 0.5;

describe('a callback’s delivery, as a state machine', () => {
  describe('before an attempt', () => {
    it('attempts while attempts are left and the callback is young enough', () => {
      expect(beforeAttempt(rules, 0, T0, T0)).toEqual({ kind: 'attempt' });
      expect(beforeAttempt(rules, 3, T0, T0 + 3600_000)).toEqual({ kind: 'attempt' });
    });

    it('dead-letters one that has used up its attempts, or is older than the maximum age', () => {
      expect(maxAttempts(rules)).toBe(4);
      expect(beforeAttempt(rules, 4, T0, T0)).toEqual({
        kind: 'dead-letter',
        reason: 'gave up after 4 attempts',
      });
      expect(beforeAttempt(rules, 1, T0, T0 + 3600_001)).toEqual({
        kind: 'dead-letter',
        reason: 'older than 3600 s',
      });
    });
  });

  describe('after an attempt', () => {
    it('a 2xx is delivered', () => {
      expect(afterAttempt(rules, 0, response(204))).toEqual({
        kind: 'delivered',
        attempt: 1,
        statusCode: 204,
      });
    });

    it.each<[string, SendResult]>([
      ['a 5xx', response(503)],
      ['a 429', response(429)],
      ['a 408', response(408)],
      ['a timeout', { kind: 'timeout', latencyMs: 10_000, error: 'no answer within 10000 ms' }],
      ['a network error', { kind: 'network-error', latencyMs: 3, error: 'connect ECONNREFUSED' }],
      [
        'a host that does not resolve',
        { kind: 'network-error', latencyMs: 0, error: 'host x.test does not resolve' },
      ],
    ])('%s is retried after the schedule’s delay for that attempt (±20%)', (_name, result) => {
      expect(afterAttempt(rules, 0, result, noJitter)).toMatchObject({
        kind: 'retry',
        attempt: 1,
        delayMs: 30_000,
      });
      expect(afterAttempt(rules, 1, result, noJitter)).toMatchObject({
        kind: 'retry',
        attempt: 2,
        delayMs: 120_000,
      });
      expect(afterAttempt(rules, 0, result, () => 0)).toMatchObject({ delayMs: 24_000 });
      expect(afterAttempt(rules, 0, result, () => 1)).toMatchObject({ delayMs: 36_000 });
    });

    it('honours Retry-After when it asks for longer, within the schedule’s longest delay', () => {
      expect(afterAttempt(rules, 0, response(429, 90), noJitter)).toMatchObject({
        kind: 'retry',
        delayMs: 90_000,
      });
      expect(afterAttempt(rules, 0, response(503, 99_999), noJitter)).toMatchObject({ delayMs: 600_000 });
      expect(afterAttempt(rules, 0, response(503, 1), noJitter)).toMatchObject({ delayMs: 30_000 });
    });

    it('dead-letters after the last attempt, with the last reason', () => {
      expect(afterAttempt(rules, 3, response(500))).toEqual({
        kind: 'dead-letter',
        attempt: 4,
        reason: 'HTTP 500',
        statusCode: 500,
      });
    });

    it('dead-letters at once on a final answer: any other 4xx, or a redirect (never followed)', () => {
      expect(afterAttempt(rules, 0, response(404))).toEqual({
        kind: 'dead-letter',
        attempt: 1,
        reason: 'HTTP 404',
        statusCode: 404,
      });
      expect(afterAttempt(rules, 0, response(302))).toMatchObject({
        kind: 'dead-letter',
        reason: 'HTTP 302: redirects are not followed',
      });
    });
  });
});
