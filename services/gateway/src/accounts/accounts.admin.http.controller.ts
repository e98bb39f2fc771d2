import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OPERATOR_KEY_HEADER, OperatorKeyGuard } from '../admin/operator-key.guard';
import { accountView, type AccountView } from './account.view';
import { AccountsService } from './accounts.service';
import { CreateAccountDto, CreateSubaccountDto } from './create-account.dto';

type WithToken = AccountView & { auth_token: string };

/** Operators create accounts here. The Auth Token is shown once, in the response that creates it. */
@ApiTags('operator: accounts')
@ApiHeader({ name: OPERATOR_KEY_HEADER, required: true })
@UseGuards(OperatorKeyGuard)
@Controller('admin/v1/accounts')
export class AccountsAdminHttpController {
  constructor(private readonly accounts: AccountsService) {}

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

  @Get(':auth_id')
  @ApiOperation({ summary: 'Show an account (never its token)' })
  async get(@Param('auth_id') authId: string): Promise<AccountView & { subaccounts?: AccountView[] }> {
    const account = await this.accounts.getForOperator(authId);
    if (account.kind === 'sub') return accountView(account);
    const subs = await this.accounts.listSubaccounts(account._id);
    return { ...accountView(account), subaccounts: subs.map(accountView) };
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
}
