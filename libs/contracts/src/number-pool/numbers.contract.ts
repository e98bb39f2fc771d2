import { z } from 'zod';
import { askingProvider, defineEvent, defineRpc } from '../contract';
import { accountScopeSchema, mainAccountIdSchema } from '../common/account-scope.schema';
import { e164Schema, isoTimeSchema } from '../common/primitives.schema';
import { numberAddShape, numberUpdateShape } from './number-fields';
import { providerCredentialsSchema, virtualNumberSchema } from './virtual-number.schema';

const text = (max: number) => z.string().max(max);

/**
 * Adds numbers the customer owns at their carrier (Plivo's "add a number from your own carrier").
 * With credentials, the carrier is asked first whether that account holds each number.
 */
export const AddVirtualNumbers = askingProvider(
  defineRpc(
    'number-pool',
    'number-pool.numbers.add.v1',
    z
      .object({
        scope: accountScopeSchema,
        /** Raw numbers as the customer wrote them; the pool validates and normalises each. */
        numbers: z.array(z.string().max(32)).min(1).max(100),
        credentials: providerCredentialsSchema.optional(),
        /**
         * Made by the main account for its subaccount (`scope`'s): the main account's choice, not held
         * to the subaccount's share of its numbers. Absent: the subaccount's own add, or the main
         * account's for itself. A number-pool of an earlier release refuses the field: roll it first.
         */
        byMainAccount: z.literal(true).optional(),
        ...numberAddShape,
      })
      .strict(),
    z.object({ added: z.array(virtualNumberSchema) }),
  ),
);

/** What a number provides, as Plivo's `services` list filter names it (`sms` and `mms`: messages). */
export const NUMBER_SERVICES = ['voice', 'sms', 'mms'] as const;
export type NumberService = (typeof NUMBER_SERVICES)[number];

export const ListVirtualNumbers = defineRpc(
  'number-pool',
  'number-pool.numbers.list.v1',
  z
    .object({
      scope: accountScopeSchema,
      /** Only numbers of this subaccount (a main account's filter). */
      subaccountId: z.string().optional(),
      numberStartsWith: z
        .string()
        .regex(/^\d{1,15}$/)
        .optional(),
      numberType: text(20).optional(),
      /**
       * Only numbers that provide each of these (Plivo's `services`): voice, or messages (`sms`,
       * `mms`). Absent: any. A number-pool of an earlier release refuses the field.
       */
      services: z.array(z.enum(NUMBER_SERVICES)).max(NUMBER_SERVICES.length).optional(),
      alias: text(100).optional(),
      country: z.string().length(2).optional(),
      limit: z.number().int().min(1).max(20),
      offset: z.number().int().min(0),
    })
    .strict(),
  z.object({ total: z.number().int(), objects: z.array(virtualNumberSchema) }),
);

export const GetVirtualNumber = defineRpc(
  'number-pool',
  'number-pool.numbers.get.v1',
  z.object({ scope: accountScopeSchema, number: e164Schema }).strict(),
  virtualNumberSchema,
);

/** Changes a number; new credentials (or provider) are checked with the carrier as at add. */
export const UpdateVirtualNumber = askingProvider(
  defineRpc(
    'number-pool',
    'number-pool.numbers.update.v1',
    z
      .object({
        scope: accountScopeSchema,
        number: e164Schema,
        /** Move the number to this subaccount (null: back to the main account). */
        subaccountId: z.string().nullable().optional(),
        credentials: providerCredentialsSchema.optional(),
        ...numberUpdateShape,
      })
      .strict(),
    virtualNumberSchema,
  ),
);

/** Stops new sessions on the number; its live sessions keep it until they end. */
export const DeleteVirtualNumber = defineRpc(
  'number-pool',
  'number-pool.numbers.delete.v1',
  z.object({ scope: accountScopeSchema, number: e164Schema }).strict(),
  z.object({ deleted: z.boolean() }),
);

/**
 * A number was added, changed (owner, provider, credentials, fallback) or removed. Carries no
 * credentials: whoever keeps a number's routing (the gateway's webhook check) forgets it and
 * reads it afresh.
 */
export const VirtualNumberChanged = defineEvent(
  'MASKLINE_EVENTS',
  'events.number.changed.v1',
  z
    .object({
      accountId: mainAccountIdSchema,
      number: e164Schema,
      at: isoTimeSchema,
      /**
       * The account the number was taken from (`accountId` took it: the provider confirmed it holds
       * the number, and the other had added it unproven or released it). Absent from a number-pool
       * before it, on every other change, and when an add that took the number is repeated (its
       * announcement failed): session-service looks again at any change that ended others' sessions.
       */
      takenFrom: mainAccountIdSchema.optional(),
      /**
       * The number moved between the account's subaccounts (or to or from its main account): the
       * sessions another holder keeps on it end, and session-service looks again once the creations
       * then under way have settled, as after a takeover. Absent from a number-pool before it.
       */
      movedWithin: z.literal(true).optional(),
    })
    .strict(),
  /** Added after release 0.1.0, whose consumers read events strictly: sent in a header. */
  { inHeader: ['takenFrom', 'movedWithin'] },
);
