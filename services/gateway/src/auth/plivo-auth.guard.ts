import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { AccountRateLimiter } from './account-rate-limiter';
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
    const { authId, token } = parseBasic(req.header('authorization'));
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

function parseBasic(header: string | undefined): { authId: string; token: string } {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) {
    throw new CodedError(
      ErrorCodes.AUTH_FAILED,
      'authentication failed: HTTP Basic credentials (Auth ID:Auth Token) are required',
    );
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new CodedError(
      ErrorCodes.AUTH_FAILED,
      'authentication failed: HTTP Basic credentials (Auth ID:Auth Token) are required',
    );
  }
  return { authId: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}
