import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  CodedError,
  GetSession,
  ListCallbackAttempts,
  ListDeadLetters,
  ReplayDeadLetters,
  uuidSchema,
  type DeadLetter,
  type DeliveryAttempt,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ScopeResolver } from '../auth/scope-resolver';
import { toInteger } from '../http/param-transforms';
import { plivoMeta } from '../http/plivo-pagination';

export class DeadLetterQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 20, default: 20 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be between 1 and 20' })
  @Max(20, { message: 'limit must be between 1 and 20' })
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'offset must be an integer' })
  @Min(0, { message: 'offset must be 0 or more' })
  offset?: number;
}

export class ReplayDto {
  @ApiPropertyOptional({
    description: 'Replay this dead letter only; all of the account’s not yet replayed when absent',
  })
  @IsOptional()
  @IsString({ message: 'event_id must be a string' })
  @MaxLength(128, { message: 'event_id must be at most 128 characters' })
  event_id?: string;
}

const attemptView = (a: DeliveryAttempt) => ({
  event_id: a.eventId,
  event_name: a.eventName,
  url: a.url,
  method: a.method,
  attempt: a.attempt,
  time: a.at,
  outcome: a.outcome,
  status_code: a.statusCode,
  latency_ms: a.latencyMs,
  error: a.error,
});
const deadLetterView = (d: DeadLetter) => ({
  event_id: d.eventId,
  event_name: d.eventName,
  session_uuid: d.sessionId,
  url: d.url,
  reason: d.reason,
  attempts: d.attempts,
  time: d.at,
  replayed_time: d.replayedAt,
});

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
    @Query() query: DeadLetterQueryDto,
  ) {
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
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
