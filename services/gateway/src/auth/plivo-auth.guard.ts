import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { AccountRateLimiter } from './account-rate-limiter';
import { parseBasic } from './basic-credentials';
import type { AuthenticatedRequest } from './principal';

/**
 * Plivo's authentication: HTTP Basic with Auth ID and Auth Token, on `/v1/Account/{auth_id}/...`.
 * The `auth_id` in the path must be the one in the credentials.
 */
@Injectable()
export class PlivoAuthGuard implements CanActivate {
  constructor(
    private readonly accounts: AccountsService,
    private readonly limiter: AccountRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const { username: authId, password: token } = parseBasic(
      req.header('authorization'),
      'Auth ID:Auth Token',
    );
    const principal = await this.accounts.authenticate(authId, token);
    const pathAuthId = req.params.auth_id;
    if (pathAuthId !== undefined && pathAuthId !== principal.authId) {
      throw new CodedError(
        ErrorCodes.AUTH_FAILED,
        'authentication failed: auth_id in the URL does not match the credentials',
      );
    }
    await this.limiter.take(principal.accountId);
    req.principal = principal;
    return true;
  }
}
