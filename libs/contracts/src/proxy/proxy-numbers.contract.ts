import { z } from 'zod';
import { defineRpc } from '../contract';
import { accountScopeSchema } from '../common/account-scope.schema';
import { e164Schema } from '../common/primitives.schema';
import { virtualNumberSchema } from '../number-pool/virtual-number.schema';
import { pagedWithinReach, proxyPageShape, proxyServiceSidSchema } from './proxy-services.contract';

/** A number of a Proxy Service: the inventory's number, and how many live sessions hold it. */
export const proxyNumberSchema = virtualNumberSchema.extend({
  /** Live sessions on the number (Twilio's `in_use`). */
  inUse: z.number().int().nonnegative(),
});
export type ProxyNumber = z.infer<typeof proxyNumberSchema>;

const inService = { scope: accountScopeSchema, serviceSid: proxyServiceSidSchema };

/**
 * Gives a number of the account's inventory to a Service (a number serves one Service at a time).
 * Giving it again to the same Service changes only `isReserved`, when given.
 */
export const AssignProxyNumber = defineRpc(
  'number-pool',
  'number-pool.proxy-numbers.assign.v1',
  z.object({ ...inService, number: e164Schema, isReserved: z.boolean().optional() }).strict(),
  proxyNumberSchema,
);

export const GetProxyNumber = defineRpc(
  'number-pool',
  'number-pool.proxy-numbers.get.v1',
  z.object({ ...inService, number: e164Schema }).strict(),
  proxyNumberSchema,
);

/** A Service's numbers in E.164 order, a page at a time. */
export const ListProxyNumbers = defineRpc(
  'number-pool',
  'number-pool.proxy-numbers.list.v1',
  pagedWithinReach(z.object({ ...inService, ...proxyPageShape }).strict()),
  z.object({ numbers: z.array(proxyNumberSchema), more: z.boolean() }),
);

export const UpdateProxyNumber = defineRpc(
  'number-pool',
  'number-pool.proxy-numbers.update.v1',
  z.object({ ...inService, number: e164Schema, isReserved: z.boolean() }).strict(),
  proxyNumberSchema,
);

/** Takes a number back from its Service (it stays in the inventory; its live sessions keep it). */
export const UnassignProxyNumber = defineRpc(
  'number-pool',
  'number-pool.proxy-numbers.unassign.v1',
  z.object({ ...inService, number: e164Schema }).strict(),
  z.object({ removed: z.literal(true) }),
);

/** Takes back every number of a Service (the Service is being deleted). */
export const UnassignServiceNumbers = defineRpc(
  'number-pool',
  'number-pool.proxy-numbers.unassign-all.v1',
  z.object(inService).strict(),
  z.object({ removed: z.number().int().nonnegative() }),
);
