import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CodedError, ListProxyInteractions } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { TwilioAuthGuard } from '../auth/twilio-auth.guard';
import { CurrentPrincipal, scopeOf, type Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { twilioApiBase } from './proxy-service.view';
import { twilioInteractionView } from './proxy-session.view';
import { accountSidOf } from './twilio-account-sid';
import { readTwilioPaging, twilioPage } from './twilio-page';

/** A Session's Interactions (calls and messages between its participants), newest first. */
@ApiTags('twilio proxy')
@ApiBasicAuth()
@UseGuards(TwilioAuthGuard)
@Controller('v1/Services/:service/Sessions/:session/Interactions')
export class ProxyInteractionsHttpController {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  private get base(): string {
    return twilioApiBase(this.config);
  }

  private async all(principal: Principal, service: string, session: string) {
    const { interactions } = await this.rpc.request(ListProxyInteractions, {
      scope: scopeOf(principal),
      service,
      session,
    });
    const accountSid = accountSidOf(principal.subaccountId ?? principal.accountId);
    return interactions.map((i) => twilioInteractionView(i, accountSid, this.base));
  }

  @Get()
  @ApiOperation({ summary: 'List the Session’s interactions, newest first' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('service') service: string,
    @Param('session') session: string,
    @Query() query: Record<string, unknown>,
  ) {
    const paging = readTwilioPaging(query);
    const all = await this.all(principal, service, session);
    const from = paging.page * paging.pageSize;
    return twilioPage(
      `${this.base}/v1/Services/${service}/Sessions/${session}/Interactions`,
      'interactions',
      all.slice(from, from + paging.pageSize),
      { ...paging, more: all.length > from + paging.pageSize },
    );
  }

  @Get(':interaction')
  @ApiOperation({ summary: 'Fetch an interaction' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('service') service: string,
    @Param('session') session: string,
    @Param('interaction') sid: string,
  ) {
    const found = (await this.all(principal, service, session)).find((i) => i.sid === sid);
    if (!found) throw CodedError.notFound(`Interaction ${sid.slice(0, 64)} not found`);
    return found;
  }
}
