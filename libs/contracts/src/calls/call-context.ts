import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Keyring } from '@maskline/crypto';
import { mainAccountIdSchema } from '../common/account-scope.schema';
import { e164Schema, uuidSchema } from '../common/primitives.schema';
import { telephonyProviderSchema } from '../number-pool/virtual-number.schema';
import { voiceStageSchema } from './voice-stage.schema';

/**
 * What a routing decision asks the provider to come back with: the follow-up's stage and what
 * that stage needs to go on. The gateway binds it to the call and number of the request it
 * answers, and signs it (see `CallContext`).
 */
export const followUpSchema = z
  .object({
    stage: voiceStageSchema,
    /** The session a call Maskline placed belongs to (outbound-answer). */
    sessionId: uuidSchema.optional(),
    /** PIN entry: which attempt this is, and whether the caller is a registered party. */
    pinAttempt: z.number().int().min(1).max(10).optional(),
    callerRegistered: z.boolean().optional(),
    /** Plivo's `<Record>`: its action (recording started) or its callbackUrl (file ready). */
    recording: z.enum(['start', 'done']).optional(),
  })
  .strict();
export type FollowUp = z.infer<typeof followUpSchema>;

/**
 * A follow-up, bound to what it may only ever be used for, as Maskline hands it out in the URLs
 * of its own XML (`?ctx=`) and takes it back: the provider, the virtual number whose credentials
 * verified the request that made it, that number's owner, the call, and which side of the call
 * the virtual number is on. Maskline signs it with its own key (HMAC-SHA256), so nobody can craft
 * one or splice one from another number, call or stage; the provider's signature is checked too.
 */
export const callContextSchema = followUpSchema
  .extend({
    provider: telephonyProviderSchema,
    virtualNumber: e164Schema,
    accountId: mainAccountIdSchema,
    /** The call (its A leg). Absent only on URLs made before the call existed (a call Maskline places). */
    callId: z.string().min(1).max(64).optional(),
    /** `inbound`: someone called the virtual number (it is `To`); `outbound`: Maskline called out from it (it is `From`). */
    direction: z.enum(['inbound', 'outbound']),
    /** Unique per context: replay memory is keyed on it. */
    id: z.string().regex(/^[A-Za-z0-9_-]{16,32}$/),
    /** Unix seconds after which the context is refused. */
    expiresAt: z.number().int().positive(),
  })
  .strict();
export type CallContext = z.infer<typeof callContextSchema>;
/** What the minter supplies beyond the follow-up: the binding. */
export type CallContextBinding = Pick<
  CallContext,
  'provider' | 'virtualNumber' | 'accountId' | 'callId' | 'direction'
>;

/** Short names on the wire keep URLs short; every field has exactly one. */
const WIRE_NAMES = {
  stage: 's',
  sessionId: 'ss',
  pinAttempt: 'a',
  callerRegistered: 'r',
  recording: 'rc',
  provider: 'p',
  virtualNumber: 'vn',
  accountId: 'ac',
  callId: 'c',
  direction: 'd',
  id: 'i',
  expiresAt: 'x',
} as const satisfies Record<keyof CallContext, string>;
const FIELD_OF_WIRE = new Map<string, string>(
  Object.entries(WIRE_NAMES).map(([field, wire]) => [wire, field]),
);

/** The query parameter follow-up URLs carry it in. */
export const CALL_CONTEXT_PARAM = 'ctx';
const DOMAIN = 'maskline.call-context.v1';
const PART = /^[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 1024;

export type CallContextVerdict =
  | { ok: true; context: CallContext }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' };

/** Makes a signed context token: `<key id>.<payload>.<signature>`, all URL-safe. */
export function encodeCallContext(
  followUp: FollowUp,
  binding: CallContextBinding,
  keys: Keyring,
  options: { nowSeconds: number; ttlSeconds: number },
): string {
  const context = callContextSchema.parse({
    ...followUp,
    ...binding,
    id: randomBytes(12).toString('base64url'),
    expiresAt: options.nowSeconds + options.ttlSeconds,
  });
  const wire: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(context)) {
    if (value !== undefined) wire[WIRE_NAMES[field as keyof CallContext] as string] = value;
  }
  const payload = Buffer.from(JSON.stringify(wire)).toString('base64url');
  const { id, key } = keys.active;
  return `${id}.${payload}.${sign(key, id, payload)}`;
}

/** Checks a token's signature, shape and age; the context only when all three hold. */
export function decodeCallContext(token: string, keys: Keyring, nowSeconds: number): CallContextVerdict {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => PART.test(p))) return { ok: false, reason: 'malformed' };
  const [keyId, payload, signature] = parts;
  const key = keys.get(keyId);
  if (!key) return { ok: false, reason: 'unknown-key' };
  // Compared as written: base64url has several spellings of the same bytes (the last character's
  // spare bits), and a token must have exactly one.
  const expected = Buffer.from(sign(key, keyId, payload));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!wire || typeof wire !== 'object' || Array.isArray(wire)) return { ok: false, reason: 'malformed' };
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(wire)) {
    const field = FIELD_OF_WIRE.get(name);
    if (!field) return { ok: false, reason: 'malformed' };
    fields[field] = value;
  }
  const parsed = callContextSchema.safeParse(fields);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  if (parsed.data.expiresAt < nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, context: parsed.data };
}

function sign(key: Buffer, keyId: string, payload: string): string {
  return createHmac('sha256', key).update(`${DOMAIN}|${keyId}|${payload}`).digest('base64url');
}

/**
 * The URL a provider is sent back to: `<public base>/voice/<provider>/<stage>?ctx=<signed context>`.
 * The gateway serves these paths; the gateway and the call router (for calls it places) make them.
 */
export function followUpUrl(
  publicBaseUrl: string,
  followUp: FollowUp,
  binding: CallContextBinding,
  keys: Keyring,
  options: { nowSeconds: number; ttlSeconds: number },
): string {
  const token = encodeCallContext(followUp, binding, keys, options);
  return `${publicBaseUrl.replace(/\/$/, '')}/voice/${binding.provider}/${followUp.stage}?${CALL_CONTEXT_PARAM}=${token}`;
}
