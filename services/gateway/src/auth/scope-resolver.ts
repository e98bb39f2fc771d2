import { Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes, type AccountScope } from '@maskline/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { scopeOf, type Principal } from './principal';

/**
 * The scope a request acts in: the caller's own, or (for a main account passing `subaccount`)
 * one of its subaccounts. A subaccount cannot act for another.
 */
@Injectable()
export class ScopeResolver {
  constructor(private readonly accounts: AccountsService) {}

  async resolve(principal: Principal, subaccount?: string | null): Promise<AccountScope> {
    if (!subaccount) return scopeOf(principal);
    if (principal.kind === 'sub') {
      if (subaccount === principal.authId) return scopeOf(principal);
      throw new CodedError(
        ErrorCodes.VALIDATION,
        'subaccount: a subaccount cannot act for another subaccount',
        {
          field: 'subaccount',
        },
      );
    }
    await this.accounts.requireSubaccount(principal.accountId, subaccount);
    return { accountId: principal.accountId, subaccountId: subaccount };
  }
}
