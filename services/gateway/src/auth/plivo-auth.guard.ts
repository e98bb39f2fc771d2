import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { ConsoleSessions } from '../console/console-sessions';
import { CSRF_HEADER, cookieToken } from '../console/console-session-rules';
import { AccountRateLimiter } from './account-rate-limiter';
import { parseBasic } from './basic-credentials';
import type { AuthenticatedRequest } from './principal';

/**
 * Plivo's authentication: HTTP Basic with Auth ID and Auth Token, on `/v1/Account/{auth_id}/...`.
 * The `auth_id` in the path must be the one in the credentials. A request without an
 * Authorization header may instead carry an account's console session: its cookie and its CSRF
 * header (the console is a client of this same API).
 */
@Injectable()
export class PlivoAuthGuard implements CanActivate {
  constructor(
    private readonly accounts: AccountsService,
    private readonly limiter: AccountRateLimiter,
    private readonly consoles: ConsoleSessions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.principalOf(req);
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

  private async principalOf(req: AuthenticatedRequest) {
    const console = req.header('authorization') === undefined ? cookieToken(req.header('cookie')) : null;
    if (console) {
      const identity = await this.consoles.identify(console, req.header(CSRF_HEADER));
      if (identity.kind !== 'account')
        throw new CodedError(
          ErrorCodes.AUTH_FAILED,
          'authentication failed: sign in with an account for this',
        );
      return this.accounts.principalOf(identity.authId);
    }
    const { username: authId, password: token } = parseBasic(
      req.header('authorization'),
      'Auth ID:Auth Token',
    );
    return this.accounts.authenticate(authId, token);
  }
}
