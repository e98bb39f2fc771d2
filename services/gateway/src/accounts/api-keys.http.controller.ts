import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { CodedError } from '@maskline/contracts';
import { AccountsService } from './accounts.service';
import { apiKeyView } from './api-key.view';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './create-api-key.dto';

/**
 * An account's own Twilio-shaped API keys (for the Twilio-compatible API):
 * `/v1/Account/{auth_id}/ApiKey/`. The secret is shown once, in the answer that makes the key.
 */
@ApiTags('accounts')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller(['v1/Account/:auth_id/ApiKey', 'v1/Account/:auth_id/ApiKey/'])
export class ApiKeysHttpController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly accounts: AccountsService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Make an API key (SK…) acting as this account, or (a main account) as one of its subaccounts; its secret is shown only here',
  })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiKeyDto) {
    let owner = principal.authId;
    if (body.subaccount !== undefined) {
      if (principal.kind !== 'main') {
        throw CodedError.validation('subaccount', 'subaccount: only a main account acts for its subaccounts');
      }
      owner = (await this.accounts.requireSubaccount(principal.accountId, body.subaccount))._id;
    }
    const issued = await this.keys.create(principal.accountId, owner, body.friendly_name ?? 'API key');
    return { api_id: currentCorrelationId(), ...apiKeyView(issued.key), secret: issued.secret };
  }

  @Get()
  @ApiOperation({
    summary: "This account's API keys (a main account's include its subaccounts'), never their secrets",
  })
  async list(@CurrentPrincipal() principal: Principal) {
    const keys = await this.keys.list(principal.accountId, ownKeysOnly(principal));
    return { api_id: currentCorrelationId(), objects: keys.map(apiKeyView) };
  }

  @Delete(':sid')
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Revoke an API key (a main account: its subaccounts' too); it stops working at once, on every gateway replica",
  })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('sid') sid: string): Promise<void> {
    await this.keys.revoke(principal.accountId, ownKeysOnly(principal), sid);
  }
}

/** A subaccount reaches only its own keys; a main account every key of its tenant (undefined). */
function ownKeysOnly(principal: Principal): string | undefined {
  return principal.kind === 'main' ? undefined : principal.authId;
}
