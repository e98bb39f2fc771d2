import { authIdOf } from '@maskline/contracts';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';
import { ApiKeysService } from '../accounts/api-keys.service';
import { AccountRateLimiter } from './account-rate-limiter';
import { parseBasic } from './basic-credentials';
import type { AuthenticatedRequest } from './principal';

/**
 * Twilio's authentication, for the Twilio-compatible API: HTTP Basic with an Account SID (`AC…`,
 * an account's alias) and its Auth Token, or an API key (`SK…`) and its secret. Either acts as the
 * account it names; a subaccount's sees only its own resources.
 */
@Injectable()
export class TwilioAuthGuard implements CanActivate {
  constructor(
    private readonly accounts: AccountsService,
    private readonly keys: ApiKeysService,
    private readonly limiter: AccountRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const { username, password } = parseBasic(
      req.header('authorization'),
      'Account SID or API key SID:secret',
    );
    const principal = username.startsWith('SK')
      ? await this.keys.authenticate(username, password)
      : // An unknown or malformed SID costs what a wrong token costs (the account lookup's decoy).
        await this.accounts.authenticate(authIdOf(username) ?? '', password);
    await this.limiter.take(principal);
    req.principal = principal;
    return true;
  }
}
