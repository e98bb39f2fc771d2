import { TwilioApiBase, TwilioApiController } from './twilio-api.controller';
import { PROXY_REFS } from './proxy-ref.pipe';
import { Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { CodedError, DeleteProxyInteraction, ListProxyInteractions } from '@maskline/contracts';
import { CurrentPrincipal, scopeOf, type Principal } from '../auth/principal';
import { twilioInteractionView } from './proxy-session.view';
import { readTwilioPaging, twilioPage } from './twilio-page';

/** A Session's Interactions (calls and messages between its participants), newest first. */
@TwilioApiController('v1/Services/:service/Sessions/:session/Interactions')
export class ProxyInteractionsHttpController extends TwilioApiBase {
  @Get()
  @ApiOperation({ summary: 'List the Session’s interactions, newest first' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Query() query: Record<string, unknown>,
  ) {
    const paging = readTwilioPaging(query);
    const page = await this.rpc.request(ListProxyInteractions, {
      scope: scopeOf(principal),
      service,
      session,
      ...paging,
    });
    const accountSid = this.accountSid(principal);
    return twilioPage(
      `${this.base}/v1/Services/${service}/Sessions/${session}/Interactions`,
      'interactions',
      page.interactions.map((i) => twilioInteractionView(i, accountSid, this.base)),
      { ...paging, more: page.more },
    );
  }

  @Get(':interaction')
  @ApiOperation({ summary: 'Fetch an interaction' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Param('interaction', PROXY_REFS.interaction) sid: string,
  ) {
    const { interactions } = await this.rpc.request(ListProxyInteractions, {
      scope: scopeOf(principal),
      service,
      session,
      page: 0,
      pageSize: 1,
      sid: sid.slice(0, 64),
    });
    if (interactions.length === 0) throw CodedError.notFound(`Interaction ${sid.slice(0, 64)} not found`);
    return twilioInteractionView(interactions[0], this.accountSid(principal), this.base);
  }

  @Delete(':interaction')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an interaction’s record (the Session is unchanged)' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Param('interaction', PROXY_REFS.interaction) sid: string,
  ): Promise<void> {
    await this.rpc.request(DeleteProxyInteraction, {
      scope: scopeOf(principal),
      service,
      session,
      sid: sid.slice(0, 64),
    });
  }
}
