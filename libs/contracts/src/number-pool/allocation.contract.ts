import { z } from 'zod';
import { defineRpc, readingHistory, scopeAccount, withPreviousVersion } from '../contract';
import { accountScopeSchema } from '../common/account-scope.schema';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { numberCapabilitySchema } from './virtual-number.schema';
import { twilioSidSchema } from '../common/twilio-sid';

export const partiesSchema = z
  .array(e164Schema)
  .min(1)
  .max(2)
  .refine((p) => p.length < 2 || p[0] !== p[1], 'the two parties must be different numbers');

const allocationRequest = {
  scope: accountScopeSchema,
  /** First party first: geomatch uses its country. One party for single-party sessions. */
  parties: partiesSchema,
  geomatch: z.boolean(),
  cooloffSeconds: z.number().int().min(0).max(3600),
  /** Numbers not to use (e.g. the PIN service refused them for this session). */
  excludeNumbers: z.array(e164Schema).max(100).default([]),
  /**
   * What the number must carry besides calls (absent: calls only). Sent only when it says more,
   * so that a number-pool of the previous release still takes every other allocation.
   */
  needs: z.array(numberCapabilitySchema).max(2).optional(),
  /**
   * A Twilio Proxy participant's allocation: only its Service's numbers (absent: any number of the
   * owner that no Service reserves, as for every Plivo-API session).
   */
  proxy: z
    .object({
      serviceSid: twilioSidSchema('KS'),
      /** The number the participant asked for (Twilio's ProxyIdentifier): that one or none; a reserved one may be. */
      pinned: e164Schema.nullable(),
      /** NANP only: the first party's area code (Twilio's geo_match_level area-code). */
      areaCode: z.boolean(),
      /** Tried first, in order (prefer-sticky: the numbers the participant had before). */
      prefer: z.array(e164Schema).max(20),
      /** Tried last (avoid-sticky: the numbers the participant had before). */
      avoid: z.array(e164Schema).max(20),
    })
    .strict()
    .optional(),
};
const allocationReply = z.object({ virtualNumber: e164Schema, country: z.string().length(2) });

/**
 * Picks a virtual number for a session and holds it for each party, so that (party, virtual
 * number) identifies exactly one live session. Idempotent per allocation id (one per attempt of a
 * session's creation: a session that retries on another number makes a new one).
 */
const AllocateNumberV2 = defineRpc(
  'number-pool',
  'number-pool.allocate.v2',
  z.object({ ...allocationRequest, allocationId: uuidSchema }).strict(),
  allocationReply,
);

/** Adds the missing party of a single-party session to its allocation. */
const AddAllocationPartyV2 = defineRpc(
  'number-pool',
  'number-pool.add-party.v2',
  z.object({ scope: accountScopeSchema, allocationId: uuidSchema, party: e164Schema }).strict(),
  z.object({ virtualNumber: e164Schema }),
);

/**
 * Ends an allocation's holds: each (virtual number, party) pair stays blocked for the cool-off
 * given at allocation, then is free again. Idempotent.
 */
const ReleaseAllocationV2 = defineRpc(
  'number-pool',
  'number-pool.release.v2',
  z.object({ scope: accountScopeSchema, allocationId: uuidSchema }).strict(),
  z.object({ released: z.number().int().nonnegative() }),
);

/**
 * v1 of the three above: its `sessionId` always carried the allocation id. Still answered, for a
 * session-service of the previous release during a rolling upgrade; remove in the next one.
 * @deprecated use AllocateNumber, AddAllocationParty, ReleaseAllocation.
 */
export const AllocateVirtualNumber = defineRpc(
  'number-pool',
  'number-pool.allocate.v1',
  z
    .object({
      scope: accountScopeSchema,
      sessionId: uuidSchema,
      /** First party first: geomatch uses its country. One party for single-party sessions. */
      parties: partiesSchema,
      geomatch: z.boolean(),
      cooloffSeconds: z.number().int().min(0).max(3600),
      /** Numbers not to use (e.g. the PIN service refused them for this session). */
      excludeNumbers: z.array(e164Schema).max(100).default([]),
    })
    .strict(),
  z.object({ virtualNumber: e164Schema, country: z.string().length(2) }),
);

/** @deprecated v1: use AddAllocationParty. */
export const AddSessionParty = defineRpc(
  'number-pool',
  'number-pool.add-party.v1',
  z.object({ scope: accountScopeSchema, sessionId: uuidSchema, party: e164Schema }).strict(),
  z.object({ virtualNumber: e164Schema }),
);

/** @deprecated v1: use ReleaseAllocation. */
export const ReleaseSessionNumber = defineRpc(
  'number-pool',
  'number-pool.release.v1',
  z.object({ scope: accountScopeSchema, sessionId: uuidSchema }).strict(),
  z.object({ released: z.number().int().nonnegative() }),
);

export const AllocateNumber = withPreviousVersion(AllocateNumberV2, AllocateVirtualNumber, {
  request: ({ allocationId, ...rest }) => ({ ...rest, sessionId: allocationId }),
  reply: (r) => r,
});
export const AddAllocationParty = withPreviousVersion(AddAllocationPartyV2, AddSessionParty, {
  request: ({ allocationId, ...rest }) => ({ ...rest, sessionId: allocationId }),
  reply: (r) => r,
});
export const ReleaseAllocation = withPreviousVersion(ReleaseAllocationV2, ReleaseSessionNumber, {
  request: ({ allocationId, ...rest }) => ({ ...rest, sessionId: allocationId }),
  reply: (r) => r,
});

export const GetPoolUtilization = defineRpc(
  'number-pool',
  'number-pool.utilization.v1',
  z.object({ scope: accountScopeSchema }).strict(),
  z.object({
    numbersTotal: z.number().int(),
    numbersInUse: z.number().int(),
    liveSessions: z.number().int(),
    sessionsPerNumber: z.object({ max: z.number().int(), mean: z.number() }),
    /** The lower bound: the most live sessions (incl. cool-off) one party holds. */
    delta: z.number().int(),
    /** What Plivo's sizing rule (2Δ − 1) would ask for. */
    plivoRuleNumbers: z.number().int(),
    /** Numbers and numbers in use per country (ISO 3166 alpha-2). */
    numbersByCountry: z
      .array(
        z.object({ country: z.string(), numbersTotal: z.number().int(), numbersInUse: z.number().int() }),
      )
      .default([]),
  }),
);

/** The hours of per-minute utilization history kept (and so the most a query may ask for). */
export const UTILIZATION_HISTORY_HOURS = 24;

/**
 * The pool's use minute by minute (a rollup written once a minute, not a scan of sessions), and the
 * allocations refused for lack of numbers in each minute. Minutes without a sample are left out.
 */
export const GetUtilizationHistory = readingHistory(
  defineRpc(
    'number-pool',
    'number-pool.utilization-history.v1',
    z
      .object({ scope: accountScopeSchema, hours: z.number().int().min(1).max(UTILIZATION_HISTORY_HOURS) })
      .strict(),
    z.object({
      points: z.array(
        z.object({
          at: isoTimeSchema,
          numbersTotal: z.number().int(),
          numbersInUse: z.number().int(),
          liveSessions: z.number().int(),
          delta: z.number().int(),
        }),
      ),
      exhaustions: z.array(z.object({ at: isoTimeSchema, count: z.number().int() })),
    }),
  ),
  'scan',
  scopeAccount,
);
