import { accountSidOf } from '@maskline/contracts';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { AccountsService } from './accounts.service';

/** Plivo's "get account details": `GET /v1/Account/{auth_id}/`. */
@ApiTags('accounts')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller(['v1/Account/:auth_id', 'v1/Account/:auth_id/'])
export class AccountHttpController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @ApiOperation({ summary: 'The authenticated account' })
  async get(@CurrentPrincipal() principal: Principal) {
    const account = await this.accounts.get(principal.accountId, principal.authId);
    return {
      api_id: currentCorrelationId(),
      auth_id: account._id,
      name: account.name,
      account_type: account.kind === 'main' ? 'standard' : 'subaccount',
      enabled: account.enabled,
      created: account.createdAt.toISOString().slice(0, 10),
      resource_uri: `/v1/Account/${account._id}/`,
      twilio_account_sid: accountSidOf(account._id),
    };
  }
}
