import { TwilioApiBase, TwilioApiController } from './twilio-api.controller';
import { PROXY_REFS } from './proxy-ref.pipe';
import { Body, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import {
  CodedError,
  CreateProxySession,
  DeleteProxySession,
  GetProxySession,
  ListProxySessions,
  UpdateProxySession,
  type RpcRequestOf,
} from '@maskline/contracts';
import { WRITE_CALL } from '../http/write-call';
import { CurrentPrincipal, scopeOf, type Principal } from '../auth/principal';
import { twilioSessionView } from './proxy-session.view';
import {
  ProxySessionParamsDto,
  ProxySessionUpdateDto,
  dateExpiryOf,
  participantsOf,
  proxySessionSettingsOf,
} from './proxy-session-params.dto';
import { readTwilioPaging, twilioPage } from './twilio-page';

type CreateSettings = Omit<RpcRequestOf<typeof CreateProxySession>, 'scope' | 'service' | 'participants'>;

/**
 * A Service's Sessions, as `client.proxy.v1.services(sid).sessions` calls them. A Session is a
 * Maskline session (the engine the Plivo-style API uses too), seen only through this API.
 */
@TwilioApiController('v1/Services/:service/Sessions')
export class ProxySessionsHttpController extends TwilioApiBase {
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a Session, with up to 2 participants' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Body() body: ProxySessionParamsDto,
  ) {
    const params = body ?? {};
    const { status, ...settings } = proxySessionSettingsOf(params);
    // Open and in-progress are the same to a new Session; closed would make one that relays nothing.
    if (status === 'closed') {
      throw CodedError.validation(
        'Status',
        'Status at create must be open or in-progress (a Session is closed by updating it)',
      );
    }
    const session = await this.rpc.request(
      CreateProxySession,
      {
        scope: scopeOf(principal),
        service,
        ...(settings as CreateSettings),
        ...(dateExpiryOf(params) ? { dateExpiry: dateExpiryOf(params) } : {}),
        participants: participantsOf(params.Participants),
      },
      WRITE_CALL,
    );
    return twilioSessionView(session, this.base);
  }

  @Get()
  @ApiOperation({ summary: 'List the Service’s Sessions, newest first' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Query() query: Record<string, unknown>,
  ) {
    const paging = readTwilioPaging(query);
    const page = await this.rpc.request(ListProxySessions, { scope: scopeOf(principal), service, ...paging });
    return twilioPage(
      `${this.base}/v1/Services/${service}/Sessions`,
      'sessions',
      page.sessions.map((s) => twilioSessionView(s, this.base)),
      { ...paging, more: page.more },
    );
  }

  @Get(':session')
  @ApiOperation({ summary: 'Fetch a Session by SID or UniqueName' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
  ) {
    const found = await this.rpc.request(GetProxySession, { scope: scopeOf(principal), service, session });
    return twilioSessionView(found, this.base);
  }

  @Post(':session')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a Session: Ttl, DateExpiry, or Status=closed' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Body() body: ProxySessionUpdateDto,
  ) {
    const params = body ?? {};
    const settings = proxySessionSettingsOf(params) as Pick<
      RpcRequestOf<typeof UpdateProxySession>,
      'ttl' | 'status'
    >;
    const dateExpiry = dateExpiryOf(params);
    const updated = await this.rpc.request(
      UpdateProxySession,
      {
        scope: scopeOf(principal),
        service,
        session,
        ...settings,
        ...(dateExpiry ? { dateExpiry } : {}),
      },
      WRITE_CALL,
    );
    return twilioSessionView(updated, this.base);
  }

  @Delete(':session')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a Session (closed first if open)' })
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
  ): Promise<void> {
    await this.rpc.request(DeleteProxySession, { scope: scopeOf(principal), service, session }, WRITE_CALL);
  }
}
