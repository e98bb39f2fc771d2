import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AccountScope } from '@maskline/contracts';

/** Who is calling the public API, once their Basic credentials checked out. */
export interface Principal {
  authId: string;
  /** The main account: the tenant key of everything this caller touches. */
  accountId: string;
  kind: 'main' | 'sub';
  /** Set when the caller is a subaccount: it sees only its own resources. */
  subaccountId?: string;
}

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without PlivoAuthGuard');
  return principal;
});

export function scopeOf(principal: Principal): AccountScope {
  return principal.subaccountId
    ? { accountId: principal.accountId, subaccountId: principal.subaccountId }
    : { accountId: principal.accountId };
}
