import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { ConsoleSessions } from '../console/console-sessions';
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
    const principal = await this.principalOf(req, context.switchToHttp().getResponse<Response>());
    const pathAuthId = req.params.auth_id;
    if (pathAuthId !== undefined && pathAuthId !== principal.authId) {
      throw new CodedError(
        ErrorCodes.AUTH_FAILED,
        'authentication failed: auth_id in the URL does not match the credentials',
      );
    }
    await this.limiter.take(principal);
    req.principal = principal;
    return true;
  }

  private async principalOf(req: AuthenticatedRequest, res: Response) {
    const console =
      req.header('authorization') === undefined ? await this.consoles.fromRequest(req, res, 'account') : null;
    if (console?.kind === 'account') return this.accounts.principalOf(console.authId);
    const { username: authId, password: token } = parseBasic(
      req.header('authorization'),
      'Auth ID:Auth Token',
    );
    return this.accounts.authenticate(authId, token);
  }
}
