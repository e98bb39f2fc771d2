import { Inject, Injectable } from '@nestjs/common';
import {
  CodedError,
  newTwilioSid,
  PROXY_SERVICE_FIELDS,
  ProxyErrorCodes,
  proxyServiceFieldEntries,
  proxyServiceSidSchema,
  type AccountScope,
  type ProxyService,
  type RpcParsedRequestOf,
  type CreateProxyService,
  type ListProxyServices,
  type UpdateProxyService,
} from '@maskline/contracts';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { ProxyServiceNameRepository, ProxyServiceRepository } from './proxy-service.repository';
import type { ProxyServiceDocument } from './proxy-service.schema';

type Settings = RpcParsedRequestOf<typeof UpdateProxyService>['settings'];

/** How old a name's hold with no Service behind it must be before another Service may take the name. */
const NAME_GRACE_MS = 60_000;

/** Twilio Proxy Services: made, read, changed and deleted by their owner; names unique per owner. */
@Injectable()
export class ProxyServicesService {
  constructor(
    private readonly services: ProxyServiceRepository,
    private readonly names: ProxyServiceNameRepository,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
  ) {}

  async create(request: RpcParsedRequestOf<typeof CreateProxyService>): Promise<ProxyService> {
    const { scope, settings } = request;
    // Approximate under concurrent creates (by as many as are under way at once): a bound on what one
    // account keeps in the store for good.
    const limit = this.config.PROXY_SERVICES_MAX;
    if ((await this.services.countOfAccount(scope.accountId)) >= limit) {
      throw new CodedError(
        ProxyErrorCodes.TOO_MANY_SERVICES,
        `this account holds ${limit} Services (its subaccounts' included), the most it may; delete one first`,
      );
    }
    const sid = newTwilioSid('KS');
    const uniqueName = settings.uniqueName!;
    await this.holdName(scope, uniqueName, sid);
    const defaults = Object.fromEntries(proxyServiceFieldEntries.map(([key, f]) => [key, f.default]));
    try {
      const doc = await this.services.insert({
        ...(defaults as Omit<
          ProxyServiceDocument,
          '_id' | 'accountId' | 'subaccountId' | 'createdAt' | 'updatedAt'
        >),
        ...withoutUndefined(settings),
        uniqueName,
        _id: sid,
        accountId: scope.accountId,
        subaccountId: scope.subaccountId ?? null,
      });
      return viewOf(doc);
    } catch (err) {
      await this.names.release(scope, uniqueName, sid);
      throw err;
    }
  }

  async get(scope: AccountScope, ref: string): Promise<ProxyService> {
    return viewOf(await this.require(scope, ref));
  }

  async list(request: RpcParsedRequestOf<typeof ListProxyServices>) {
    const { scope, page, pageSize } = request;
    const docs = await this.services.list(scope, page * pageSize, pageSize + 1);
    return { services: docs.slice(0, pageSize).map(viewOf), more: docs.length > pageSize };
  }

  async update(request: RpcParsedRequestOf<typeof UpdateProxyService>): Promise<ProxyService> {
    const { scope } = request;
    const doc = await this.require(scope, request.service);
    const set = withoutUndefined(request.settings) as Partial<ProxyServiceDocument>;
    const renamed = set.uniqueName !== undefined && set.uniqueName !== doc.uniqueName;
    if (renamed) await this.holdName(scope, set.uniqueName!, doc._id);
    if (!(await this.services.update(scope, doc._id, set))) {
      if (renamed) await this.names.release(scope, set.uniqueName!, doc._id);
      throw CodedError.notFound(`Service ${request.service} not found`);
    }
    if (renamed) await this.names.release(scope, doc.uniqueName, doc._id);
    return viewOf((await this.services.get(scope, doc._id)) ?? { ...doc, ...set });
  }

  /** Deletes the Service (its name is free again at once). */
  async delete(scope: AccountScope, ref: string): Promise<void> {
    const doc = await this.require(scope, ref);
    await this.services.remove(scope, doc._id);
    await this.names.release(scope, doc.uniqueName, doc._id);
  }

  /**
   * Holds the name for the Service. A hold is taken over only when it is certainly left over: its
   * Service now has another name (a rename that stopped half-way), or it has none and the hold is
   * older than NAME_GRACE_MS (a create that died before storing its Service; a younger hold may be
   * a create still under way). Otherwise Twilio's 80602.
   */
  private async holdName(scope: AccountScope, name: string, sid: string): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.names.hold(scope, name, sid)) return;
      const hold = await this.names.holder(scope, name);
      if (!hold) continue; // released meanwhile
      const service = await this.services.get(scope, hold.serviceSid);
      const leftOver = service
        ? service.uniqueName !== name
        : hold.createdAt.getTime() < Date.now() - NAME_GRACE_MS;
      if (!leftOver) break;
      await this.names.release(scope, name, hold.serviceSid);
    }
    throw new CodedError(
      ProxyErrorCodes.SERVICE_NAME_TAKEN,
      `UniqueName: another Service of this account is named "${name}" (Service UniqueName must be unique)`,
      { field: 'UniqueName' },
    );
  }

  /** By SID, or by UniqueName as Twilio's paths allow; another owner's Service is not found. */
  private async require(scope: AccountScope, ref: string): Promise<ProxyServiceDocument> {
    const bySid = proxyServiceSidSchema.safeParse(ref).success;
    const sid = bySid ? ref : (await this.names.holder(scope, ref))?.serviceSid;
    const doc = sid ? await this.services.get(scope, sid) : null;
    // A name still held for a Service since renamed names nothing.
    if (!doc || (!bySid && doc.uniqueName !== ref)) throw CodedError.notFound(`Service ${ref} not found`);
    return doc;
  }
}

function withoutUndefined(settings: Settings): Partial<Settings> {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<Settings>;
}

function viewOf(doc: ProxyServiceDocument): ProxyService {
  return {
    sid: doc._id,
    accountId: doc.accountId,
    subaccountId: doc.subaccountId,
    uniqueName: doc.uniqueName,
    defaultTtl: doc.defaultTtl ?? PROXY_SERVICE_FIELDS.defaultTtl.default,
    callbackUrl: doc.callbackUrl ?? null,
    geoMatchLevel: doc.geoMatchLevel as ProxyService['geoMatchLevel'],
    numberSelectionBehavior: doc.numberSelectionBehavior as ProxyService['numberSelectionBehavior'],
    interceptCallbackUrl: doc.interceptCallbackUrl ?? null,
    outOfSessionCallbackUrl: doc.outOfSessionCallbackUrl ?? null,
    chatInstanceSid: doc.chatInstanceSid ?? null,
    interceptFailClosed: doc.interceptFailClosed ?? false,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}
