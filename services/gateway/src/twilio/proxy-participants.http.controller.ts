import { TwilioApiBase, TwilioApiController } from './twilio-api.controller';
import { PROXY_REFS } from './proxy-ref.pipe';
import { Body, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import {
  CodedError,
  CreateProxyParticipant,
  GetProxyParticipant,
  ListProxyParticipants,
  ProxyErrorCodes,
} from '@maskline/contracts';
import { WRITE_CALL } from '../http/write-call';
import { CurrentPrincipal, scopeOf, type Principal } from '../auth/principal';
import { twilioParticipantView } from './proxy-session.view';
import { ProxyParticipantParamsDto, participantRequestOf } from './proxy-session-params.dto';
import { readTwilioPaging, twilioPage } from './twilio-page';

/** A Session's Participants, as `client.proxy.v1.services(sid).sessions(sid).participants` calls them. */
@TwilioApiController('v1/Services/:service/Sessions/:session/Participants')
export class ProxyParticipantsHttpController extends TwilioApiBase {
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Add a participant: the Session’s proxy number is chosen, or the one named' })
  async add(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Body() body: ProxyParticipantParamsDto,
  ) {
    const b = body ?? {};
    const participant = participantRequestOf({
      identifier: b.Identifier,
      friendlyName: b.FriendlyName,
      proxyIdentifier: b.ProxyIdentifier,
      proxyIdentifierSid: b.ProxyIdentifierSid,
    });
    const scope = scopeOf(principal);
    const added = await this.rpc.request(
      CreateProxyParticipant,
      { scope, service, session, participant },
      WRITE_CALL,
    );
    return twilioParticipantView(added, this.accountSid(principal), this.base);
  }

  @Get()
  @ApiOperation({ summary: 'List the Session’s participants' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Query() query: Record<string, unknown>,
  ) {
    const paging = readTwilioPaging(query);
    const { participants } = await this.rpc.request(ListProxyParticipants, {
      scope: scopeOf(principal),
      service,
      session,
    });
    const accountSid = this.accountSid(principal);
    const from = paging.page * paging.pageSize;
    return twilioPage(
      `${this.base}/v1/Services/${service}/Sessions/${session}/Participants`,
      'participants',
      participants
        .slice(from, from + paging.pageSize)
        .map((p) => twilioParticipantView(p, accountSid, this.base)),
      { ...paging, more: participants.length > from + paging.pageSize },
    );
  }

  @Get(':participant')
  @ApiOperation({ summary: 'Fetch a participant' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Param('participant', PROXY_REFS.participant) participantSid: string,
  ) {
    const found = await this.rpc.request(GetProxyParticipant, {
      scope: scopeOf(principal),
      service,
      session,
      participantSid: participantSid.slice(0, 64),
    });
    return twilioParticipantView(found, this.accountSid(principal), this.base);
  }

  @Delete(':participant')
  @ApiOperation({ summary: 'Not served: a participant stays until its Session closes' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Param('participant', PROXY_REFS.participant) participantSid: string,
  ): Promise<never> {
    // The participant must exist (else 404, as for any wrong SID) before the refusal.
    await this.rpc.request(GetProxyParticipant, {
      scope: scopeOf(principal),
      service,
      session,
      participantSid: participantSid.slice(0, 64),
    });
    throw new CodedError(
      ProxyErrorCodes.PARTICIPANT_REMOVAL_UNSUPPORTED,
      'Maskline does not remove a participant from an open Session: close the Session (Status=closed) and create a new one',
    );
  }
}
