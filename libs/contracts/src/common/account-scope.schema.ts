import { z } from 'zod';

export const mainAccountIdSchema = z
  .string()
  .regex(/^MA[A-Z0-9]{18}$/, 'must be a main account auth id (MA…)');
export const subaccountIdSchema = z.string().regex(/^SA[A-Z0-9]{18}$/, 'must be a subaccount auth id (SA…)');

/**
 * Whose data a request touches: always the main account (the tenant key in every query), and
 * the subaccount when the caller acts for one.
 */
export const accountScopeSchema = z
  .object({
    accountId: mainAccountIdSchema,
    subaccountId: subaccountIdSchema.optional(),
  })
  .strict();

export type AccountScope = z.infer<typeof accountScopeSchema>;
