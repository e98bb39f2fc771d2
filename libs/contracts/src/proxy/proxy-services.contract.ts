import { proxyRefSchema } from './proxy-ref';
import { z } from 'zod';
import { defineRpc } from '../contract';
import { accountScopeSchema } from '../common/account-scope.schema';
import { PAGE_OFFSET_MAX } from '../common/paging';
import { isoTimeSchema } from '../common/primitives.schema';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { zodOf } from '../common/field-kind';
import { twilioSidSchema } from '../common/twilio-sid';
import { PROXY_SERVICE_FIELDS, proxyServiceSettingsShape } from './proxy-service-fields';

export const proxyServiceSidSchema = twilioSidSchema('KS');

/** A Proxy Service as services see it. */
export const proxyServiceSchema = z.object({
  sid: proxyServiceSidSchema,
  accountId: mainAccountIdSchema,
  subaccountId: subaccountIdSchema.nullable(),
  uniqueName: zodOf(PROXY_SERVICE_FIELDS.uniqueName.kind),
  defaultTtl: zodOf(PROXY_SERVICE_FIELDS.defaultTtl.kind),
  callbackUrl: zodOf(PROXY_SERVICE_FIELDS.callbackUrl.kind),
  geoMatchLevel: zodOf(PROXY_SERVICE_FIELDS.geoMatchLevel.kind),
  numberSelectionBehavior: zodOf(PROXY_SERVICE_FIELDS.numberSelectionBehavior.kind),
  interceptCallbackUrl: zodOf(PROXY_SERVICE_FIELDS.interceptCallbackUrl.kind),
  outOfSessionCallbackUrl: zodOf(PROXY_SERVICE_FIELDS.outOfSessionCallbackUrl.kind),
  chatInstanceSid: zodOf(PROXY_SERVICE_FIELDS.chatInstanceSid.kind).nullable(),
  interceptFailClosed: zodOf(PROXY_SERVICE_FIELDS.interceptFailClosed.kind),
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
});
export type ProxyService = z.infer<typeof proxyServiceSchema>;

/** A page of a Twilio list: `Page` from 0, `PageSize` 1–1000 (the gateway applies Twilio's default). */
export const proxyPageShape = {
  page: z.number().int().min(0).max(10_000),
  pageSize: z.number().int().min(1).max(1000),
};

/**
 * The records before a page (`Page` × `PageSize`) are at most PAGE_OFFSET_MAX, as Plivo's offset
 * is: a list merges live and ended records in memory up to the page's end, so an unbounded reach
 * would let one tenant make session-service hold millions at once. Past it, a list is a search to
 * narrow.
 */
export const PROXY_PAGE_REACH_RULE = `Page × PageSize must be at most ${PAGE_OFFSET_MAX}`;

export function proxyPageWithinReach(p: { page: number; pageSize: number }): boolean {
  return p.page * p.pageSize <= PAGE_OFFSET_MAX;
}

/** A list request, its page within reach (PROXY_PAGE_REACH_RULE). */
export function pagedWithinReach<T extends z.ZodType<{ page: number; pageSize: number }>>(
  request: T,
): z.ZodEffects<T, z.output<T>, z.input<T>> {
  return request.refine(proxyPageWithinReach, {
    message: PROXY_PAGE_REACH_RULE,
    path: ['page'],
  }) as z.ZodEffects<T, z.output<T>, z.input<T>>;
}

/** A Service named by its SID or its UniqueName, as Twilio's paths allow. */
const serviceRef = proxyRefSchema;

export const CreateProxyService = defineRpc(
  'session-service',
  'session-service.proxy-services.create.v1',
  z
    .object({ scope: accountScopeSchema, settings: z.object(proxyServiceSettingsShape).strict() })
    .strict()
    .refine((r) => !!r.settings.uniqueName, {
      message: 'UniqueName is required',
      path: ['settings', 'uniqueName'],
    }),
  proxyServiceSchema,
);

export const GetProxyService = defineRpc(
  'session-service',
  'session-service.proxy-services.get.v1',
  z.object({ scope: accountScopeSchema, service: serviceRef }).strict(),
  proxyServiceSchema,
);

/** Newest first, a page at a time (Twilio's `Page` from 0 and `PageSize`). */
export const ListProxyServices = defineRpc(
  'session-service',
  'session-service.proxy-services.list.v1',
  pagedWithinReach(z.object({ scope: accountScopeSchema, ...proxyPageShape }).strict()),
  z.object({ services: z.array(proxyServiceSchema), more: z.boolean() }),
);

export const UpdateProxyService = defineRpc(
  'session-service',
  'session-service.proxy-services.update.v1',
  z
    .object({
      scope: accountScopeSchema,
      service: serviceRef,
      settings: z.object(proxyServiceSettingsShape).strict(),
    })
    .strict(),
  proxyServiceSchema,
);

export const DeleteProxyService = defineRpc(
  'session-service',
  'session-service.proxy-services.delete.v1',
  z.object({ scope: accountScopeSchema, service: serviceRef }).strict(),
  z.object({ deleted: z.literal(true) }),
);

/**
 * What routing needs of a Service (asked by the call routers, cached briefly): its intercept,
 * asked before each interaction of its Sessions, whether a failed intercept blocks, and where to
 * tell of a call or text from someone in none of its open Sessions.
 */
export const GetProxyServicePolicy = defineRpc(
  'session-service',
  'session-service.proxy-services.policy.v1',
  z
    .object({
      accountId: mainAccountIdSchema,
      subaccountId: subaccountIdSchema.nullable(),
      serviceSid: proxyServiceSidSchema,
    })
    .strict(),
  z.object({
    interceptCallbackUrl: zodOf(PROXY_SERVICE_FIELDS.interceptCallbackUrl.kind),
    interceptFailClosed: zodOf(PROXY_SERVICE_FIELDS.interceptFailClosed.kind),
    outOfSessionCallbackUrl: zodOf(PROXY_SERVICE_FIELDS.outOfSessionCallbackUrl.kind),
  }),
);
