import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { currentCorrelationId } from '@maskline/observability';
import { PaginationQuery, pageOf } from '../http/pagination.query';
import { CodedError } from '@maskline/contracts';
import { AccountPrivacy } from '@maskline/messaging';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OPERATOR_KEY_HEADER, OperatorKeyGuard } from '../admin/operator-key.guard';
import { AccountPrivacyDto } from './account-privacy.dto';
import { accountView, type AccountView } from './account.view';
import { AccountsService } from './accounts.service';
import { apiKeyView } from './api-key.view';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './create-api-key.dto';
import { CreateAccountDto, CreateSubaccountDto } from './create-account.dto';

type WithToken = AccountView & { auth_token: string };

/** Operators create accounts here. The Auth Token is shown once, in the response that creates it. */
@ApiTags('operator: accounts')
@ApiHeader({ name: OPERATOR_KEY_HEADER, required: true })
@UseGuards(OperatorKeyGuard)
@Controller('admin/v1/accounts')
export class AccountsAdminHttpController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly privacy: AccountPrivacy,
    private readonly keys: ApiKeysService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a main account (its Auth Token is shown only in this response)' })
  async create(@Body() body: CreateAccountDto): Promise<WithToken> {
    const issued = await this.accounts.createMainAccount(body.name);
    return { ...accountView(issued.account), auth_token: issued.authToken };
  }

  @Post(':auth_id/subaccounts')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a subaccount of a main account' })
  async createSub(@Param('auth_id') authId: string, @Body() body: CreateSubaccountDto): Promise<WithToken> {
    const issued = await this.accounts.createSubaccount(authId, body.name, body.enabled ?? true);
    return { ...accountView(issued.account), auth_token: issued.authToken };
  }

  @Get()
  @ApiOperation({ summary: 'List main accounts, by Auth ID (never their tokens)' })
  async list(@Query() query: PaginationQuery) {
    const { limit, offset } = pageOf(query);
    const page = await this.accounts.listMainAccounts(limit, offset);
    return {
      api_id: currentCorrelationId(),
      meta: { limit, offset, total_count: page.total },
      objects: page.objects.map(accountView),
    };
  }

  @Get(':auth_id')
  @ApiOperation({ summary: 'Show an account (never its token)' })
  async get(
    @Param('auth_id') authId: string,
  ): Promise<AccountView & { subaccounts?: AccountView[]; keep_party_numbers?: boolean }> {
    const account = await this.accounts.getForOperator(authId);
    if (account.kind === 'sub') return accountView(account);
    const subs = await this.accounts.listSubaccounts(account._id);
    return {
      ...accountView(account),
      keep_party_numbers: await this.privacy.keepsNumbers(account._id),
      subaccounts: subs.map(accountView),
    };
  }

  @Put(':auth_id/privacy')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Whether a main account’s ended sessions keep their parties’ numbers (opt out of redaction) or not (the default)',
  })
  async setPrivacy(
    @Param('auth_id') authId: string,
    @Body() body: AccountPrivacyDto,
  ): Promise<{ auth_id: string; keep_party_numbers: boolean }> {
    const account = await this.accounts.getForOperator(authId);
    if (account.kind === 'sub') {
      throw CodedError.validation('auth_id', 'privacy is set on the main account, for all its subaccounts');
    }
    await this.privacy.setKeepNumbers(account._id, body.keep_party_numbers);
    return { auth_id: account._id, keep_party_numbers: body.keep_party_numbers };
  }

  @Post(':auth_id/token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate an Auth Token (the old one stops working at once, on every gateway replica)',
  })
  async rotate(@Param('auth_id') authId: string): Promise<{ auth_id: string; auth_token: string }> {
    const account = await this.accounts.getForOperator(authId);
    const token = await this.accounts.rotateToken(account.accountId, authId);
    return { auth_id: authId, auth_token: token };
  }

  @Post(':auth_id/api-keys')
  @HttpCode(201)
  @ApiOperation({ summary: 'Make an API key (SK…) acting as this account; its secret is shown only here' })
  async createKey(@Param('auth_id') authId: string, @Body() body: CreateApiKeyDto) {
    const account = await this.accounts.getForOperator(authId);
    // As on the account API: `subaccount` makes the key act as one of this main account's subaccounts.
    const owner =
      body.subaccount === undefined
        ? authId
        : (await this.accounts.requireSubaccount(account.accountId, body.subaccount))._id;
    const issued = await this.keys.create(account.accountId, owner, body.friendly_name ?? 'API key');
    return { ...apiKeyView(issued.key), secret: issued.secret };
  }

  @Get(':auth_id/api-keys')
  @ApiOperation({ summary: "An account's API keys (never their secrets)" })
  async listKeys(@Param('auth_id') authId: string) {
    const account = await this.accounts.getForOperator(authId);
    return { objects: (await this.keys.list(account.accountId, authId)).map(apiKeyView) };
  }

  @Delete(':auth_id/api-keys/:sid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key: it stops working at once, on every gateway replica' })
  async revokeKey(@Param('auth_id') authId: string, @Param('sid') sid: string): Promise<void> {
    const account = await this.accounts.getForOperator(authId);
    await this.keys.revoke(account.accountId, authId, sid);
  }
}
