import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CodedError,
  ErrorCodes,
  GetCallbackStats,
  GetPinSecurity,
  GetSession,
  GetUtilizationHistory,
  ListPinAttempts,
  UTILIZATION_HISTORY_HOURS,
  uuidSchema,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ScopeResolver } from '../auth/scope-resolver';
import { HoursWindowQuery, UtilizationHistoryQuery, hoursOf } from './hours-window.query';
import { callbackStatsView, pinAttemptView, pinSecurityView, utilizationPointView } from './insight.views';

/**
 * What the console shows an account beyond Plivo's own API: a session's PIN entries, the pool's
 * history, callback and PIN statistics. Read-only; every answer is the caller's own data.
 */
@ApiTags('insights')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller()
export class InsightsHttpController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly scopes: ScopeResolver,
  ) {}

  @Get([
    'v1/Account/:auth_id/Masking/Session/:session_uuid/PinAttempts',
    'v1/Account/:auth_id/Masking/Session/:session_uuid/PinAttempts/',
  ])
  @ApiOperation({
    summary: "A session's PIN entries, with the other entries of the same calls (never digits)",
  })
  async pinAttempts(@CurrentPrincipal() principal: Principal, @Param('session_uuid') sessionId: string) {
    if (!uuidSchema.safeParse(sessionId).success)
      throw CodedError.notFound(`session ${sessionId.slice(0, 64)} not found`);
    const scope = await this.scopes.resolve(principal);
    // Another account's (or another subaccount's) session is not found, here as everywhere.
    await this.rpc.request(GetSession, { scope, sessionId });
    const r = await this.rpc.request(ListPinAttempts, { accountId: scope.accountId, sessionId });
    return { api_id: currentCorrelationId(), objects: r.attempts.map(pinAttemptView) };
  }

  @Get(['v1/Account/:auth_id/Masking/PinSecurity', 'v1/Account/:auth_id/Masking/PinSecurity/'])
  @ApiOperation({ summary: 'PIN entries per hour, and the numbers and callers with the most failures' })
  async pinSecurity(@CurrentPrincipal() principal: Principal, @Query() query: HoursWindowQuery) {
    requireMainAccount(principal, 'PIN security');
    const r = await this.rpc.request(GetPinSecurity, {
      accountId: principal.accountId,
      hours: hoursOf(query),
    });
    return { api_id: currentCorrelationId(), ...pinSecurityView(r) };
  }

  @Get(['v1/Account/:auth_id/Masking/Callbacks/Stats', 'v1/Account/:auth_id/Masking/Callbacks/Stats/'])
  @ApiOperation({ summary: 'Callback outcomes and latency per hour, and the endpoints failing most' })
  async callbackStats(@CurrentPrincipal() principal: Principal, @Query() query: HoursWindowQuery) {
    requireMainAccount(principal, 'Callback statistics');
    const r = await this.rpc.request(GetCallbackStats, {
      accountId: principal.accountId,
      hours: hoursOf(query),
    });
    return { api_id: currentCorrelationId(), ...callbackStatsView(r) };
  }

  @Get([
    'v1/Account/:auth_id/Masking/Utilization/History',
    'v1/Account/:auth_id/Masking/Utilization/History/',
  ])
  @ApiOperation({ summary: 'Pool use minute by minute (a per-minute rollup), and refused allocations' })
  async utilizationHistory(
    @CurrentPrincipal() principal: Principal,
    @Query() query: UtilizationHistoryQuery,
  ) {
    const r = await this.rpc.request(GetUtilizationHistory, {
      scope: await this.scopes.resolve(principal, query.subaccount),
      hours: hoursOf(query, UTILIZATION_HISTORY_HOURS),
    });
    return {
      api_id: currentCorrelationId(),
      interval_seconds: 60,
      points: r.points.map(utilizationPointView),
      exhaustions: r.exhaustions.map((e) => ({ time: e.at, count: e.count })),
    };
  }
}

/** Statistics over records that do not say which subaccount they belong to are the main account's. */
function requireMainAccount(principal: Principal, what: string): void {
  if (principal.kind === 'sub')
    throw new CodedError(
      ErrorCodes.FORBIDDEN,
      `${what} covers the whole account: sign in with the main account's Auth ID to see it`,
    );
}
