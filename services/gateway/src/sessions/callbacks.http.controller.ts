import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CodedError,
  GetSession,
  ListCallbackAttempts,
  ListDeadLetters,
  ReplayDeadLetters,
  uuidSchema,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ScopeResolver } from '../auth/scope-resolver';
import { PaginationQuery, pageOf } from '../http/pagination.query';
import { plivoMeta } from '../http/plivo-pagination';
import { attemptView, deadLetterView } from './callback-records.view';
import { ReplayDto } from './replay-dead-letters.dto';

/** What happened to a session's callbacks; dead letters and their replay. */
@ApiTags('callbacks')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller()
export class CallbacksHttpController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly scopes: ScopeResolver,
  ) {}

  @Get([
    'v1/Account/:auth_id/Masking/Session/:session_uuid/Callbacks',
    'v1/Account/:auth_id/Masking/Session/:session_uuid/Callbacks/',
  ])
  @ApiOperation({ summary: "Every delivery attempt and dead letter of a session's callbacks" })
  async ofSession(@CurrentPrincipal() principal: Principal, @Param('session_uuid') sessionId: string) {
    if (!uuidSchema.safeParse(sessionId).success)
      throw CodedError.notFound(`session ${sessionId.slice(0, 64)} not found`);
    const scope = await this.scopes.resolve(principal);
    // Another account's (or another subaccount's) session is not found, here as everywhere.
    await this.rpc.request(GetSession, { scope, sessionId });
    const r = await this.rpc.request(ListCallbackAttempts, { scope, sessionId });
    return {
      api_id: currentCorrelationId(),
      attempts: r.attempts.map(attemptView),
      dead_letters: r.deadLetters.map(deadLetterView),
    };
  }

  @Get([
    'v1/Account/:auth_id/Masking/Callbacks/DeadLetters',
    'v1/Account/:auth_id/Masking/Callbacks/DeadLetters/',
  ])
  @ApiOperation({ summary: 'Dead letters, newest first' })
  async deadLetters(
    @CurrentPrincipal() principal: Principal,
    @Param('auth_id') authId: string,
    @Query() query: PaginationQuery,
  ) {
    const { limit, offset } = pageOf(query);
    const page = await this.rpc.request(ListDeadLetters, {
      scope: await this.scopes.resolve(principal),
      limit,
      offset,
    });
    return {
      api_id: currentCorrelationId(),
      meta: plivoMeta(`/v1/Account/${authId}/Masking/Callbacks/DeadLetters/`, {}, limit, offset, page.total),
      objects: page.objects.map(deadLetterView),
    };
  }

  @Post([
    'v1/Account/:auth_id/Masking/Callbacks/DeadLetters/Replay',
    'v1/Account/:auth_id/Masking/Callbacks/DeadLetters/Replay/',
  ])
  @HttpCode(202)
  @ApiOperation({ summary: 'Send dead letters again, with fresh attempts' })
  async replay(@CurrentPrincipal() principal: Principal, @Body() body: ReplayDto) {
    const r = await this.rpc.request(ReplayDeadLetters, {
      scope: await this.scopes.resolve(principal),
      eventId: body.event_id,
    });
    return { api_id: currentCorrelationId(), message: 'replay requested', replayed: r.replayed };
  }
}
