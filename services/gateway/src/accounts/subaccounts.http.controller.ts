import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { AccountsService } from './accounts.service';
import { CreateSubaccountDto } from './create-account.dto';

/** Plivo's create-subaccount call, for main accounts: `POST /v1/Account/{auth_id}/Subaccount/`. */
@ApiTags('accounts')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller('v1/Account/:auth_id/Subaccount')
export class SubaccountsHttpController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a subaccount' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateSubaccountDto) {
    if (principal.kind !== 'main') {
      throw new CodedError(ErrorCodes.FORBIDDEN, 'only a main account can create subaccounts');
    }
    const issued = await this.accounts.createSubaccount(principal.authId, body.name, body.enabled ?? true);
    return {
      api_id: currentCorrelationId(),
      auth_id: issued.authId,
      auth_token: issued.authToken,
      message: 'created',
    };
  }
}
