import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { GetPoolUtilization } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ScopeResolver } from '../auth/scope-resolver';

/** How well the virtual-number pool is used, against Δ and Plivo's 2Δ − 1 sizing rule. */
@ApiTags('numbers')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller(['v1/Account/:auth_id/Masking/Utilization', 'v1/Account/:auth_id/Masking/Utilization/'])
export class UtilizationHttpController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly scopes: ScopeResolver,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Pool utilization: numbers in use, sessions per number, Δ' })
  @ApiQuery({ name: 'subaccount', required: false })
  async get(@CurrentPrincipal() principal: Principal, @Query('subaccount') subaccount?: string) {
    const scope = await this.scopes.resolve(
      principal,
      typeof subaccount === 'string' ? subaccount : undefined,
    );
    const u = await this.rpc.request(GetPoolUtilization, { scope });
    return {
      api_id: currentCorrelationId(),
      numbers_total: u.numbersTotal,
      numbers_in_use: u.numbersInUse,
      live_sessions: u.liveSessions,
      sessions_per_number: u.sessionsPerNumber,
      delta: u.delta,
      plivo_rule_numbers: u.plivoRuleNumbers,
      numbers_by_country: u.numbersByCountry.map((c) => ({
        country: c.country,
        numbers_total: c.numbersTotal,
        numbers_in_use: c.numbersInUse,
      })),
    };
  }
}
