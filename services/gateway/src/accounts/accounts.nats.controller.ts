import { Controller } from '@nestjs/common';
import { GetCallbackSigningToken, type RpcParsedRequestOf, type RpcReplyInputOf } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { AccountsService } from './accounts.service';

@Controller()
export class AccountsNatsController {
  constructor(private readonly accounts: AccountsService) {}

  @RpcHandler(GetCallbackSigningToken)
  signingToken(
    request: RpcParsedRequestOf<typeof GetCallbackSigningToken>,
  ): Promise<RpcReplyInputOf<typeof GetCallbackSigningToken>> {
    return this.accounts.signingToken(request.accountId, request.subaccountId);
  }
}
