import { TwilioApiBase, TwilioApiController } from './twilio-api.controller';
import { PROXY_REFS } from './proxy-ref.pipe';
import { Body, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import {
  CloseProxyServiceSessions,
  CreateProxyService,
  DeleteProxyService,
  GetProxyService,
  ListProxyServices,
  UnassignServiceNumbers,
  CodedError,
  UpdateProxyService,
  proxyServiceFieldEntries,
  type RpcRequestOf,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { WRITE_CALL } from '../http/write-call';
import { CurrentPrincipal, scopeOf, type Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { CallbackUrlChecker, urlsMasklineCalls } from '../sessions/callback-url-checker';
import { twilioServiceView } from './proxy-service.view';
import { readTwilioPaging, twilioPage } from './twilio-page';
import { ProxyServiceParamsDto, proxyServiceSettingsOf } from './proxy-service-params.dto';

/** The settings as the contract takes them (the RPC client checks them against it again). */
type Settings = RpcRequestOf<typeof UpdateProxyService>['settings'];

/**
 * Twilio Proxy's Services, as `client.proxy.v1.services` calls them: `/v1/Services` and
 * `/v1/Services/{Sid or UniqueName}`. Authenticated as Twilio does (Account SID and Auth Token, or
 * an API key); a subaccount sees only its own.
 */
@TwilioApiController('v1/Services')
export class ProxyServicesHttpController extends TwilioApiBase {
  // The base's parameters first, in its order (its injection tokens are inherited by position).
  constructor(
    rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly callbackUrls: CallbackUrlChecker,
  ) {
    super(rpc, config);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a Service (UniqueName required)' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: ProxyServiceParamsDto) {
    const settings = proxyServiceSettingsOf(body ?? {}) as Settings;
    if (!settings.uniqueName) throw CodedError.validation('UniqueName', 'UniqueName is required');
    await this.callbackUrls.check(
      urlsMasklineCalls(proxyServiceFieldEntries, settings, (f) => String(f.param)),
    );
    const service = await this.rpc.request(CreateProxyService, { scope: scopeOf(principal), settings });
    return twilioServiceView(service, this.base);
  }

  @Get()
  @ApiOperation({ summary: 'List Services, newest first' })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    const paging = readTwilioPaging(query);
    const page = await this.rpc.request(ListProxyServices, { scope: scopeOf(principal), ...paging });
    return twilioPage(
      `${this.base}/v1/Services`,
      'services',
      page.services.map((s) => twilioServiceView(s, this.base)),
      { ...paging, more: page.more },
    );
  }

  @Get(':service')
  @ApiOperation({ summary: 'Fetch a Service by SID or UniqueName' })
  async get(@CurrentPrincipal() principal: Principal, @Param('service', PROXY_REFS.service) ref: string) {
    const service = await this.rpc.request(GetProxyService, { scope: scopeOf(principal), service: ref });
    return twilioServiceView(service, this.base);
  }

  @Post(':service')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a Service (any of its settings, UniqueName included)' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) ref: string,
    @Body() body: ProxyServiceParamsDto,
  ) {
    const settings = proxyServiceSettingsOf(body ?? {}) as Settings;
    await this.callbackUrls.check(
      urlsMasklineCalls(proxyServiceFieldEntries, settings, (f) => String(f.param)),
    );
    const service = await this.rpc.request(UpdateProxyService, {
      scope: scopeOf(principal),
      service: ref,
      settings,
    });
    return twilioServiceView(service, this.base);
  }

  @Delete(':service')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a Service (its numbers stay the account’s)' })
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) ref: string,
  ): Promise<void> {
    const scope = scopeOf(principal);
    const service = await this.rpc.request(GetProxyService, { scope, service: ref });
    // Its Sessions first (closed and deleted: their numbers and names go back), then its numbers
    // (the account's only again). A crash in between leaves a Service that is still there, and
    // deleting it again finishes the work.
    await this.rpc.request(CloseProxyServiceSessions, { scope, serviceSid: service.sid }, WRITE_CALL);
    await this.rpc.request(UnassignServiceNumbers, { scope, serviceSid: service.sid });
    await this.rpc.request(DeleteProxyService, { scope, service: service.sid });
    // Once more after: what was added while the Service was being deleted goes too.
    await this.rpc.request(CloseProxyServiceSessions, { scope, serviceSid: service.sid }, WRITE_CALL);
    await this.rpc.request(UnassignServiceNumbers, { scope, serviceSid: service.sid });
  }
}
