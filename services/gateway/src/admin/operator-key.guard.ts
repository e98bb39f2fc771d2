import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { ConsoleSessions } from '../console/console-sessions';
import { CSRF_HEADER, cookieToken } from '../console/console-session-rules';

export const OPERATOR_KEY_HEADER = 'X-Operator-Key';

/**
 * Guards the operator API: `X-Operator-Key` must equal OPERATOR_KEY (compared in constant time), or,
 * without that header, the request carries an operator's console session (cookie and CSRF header).
 */
@Injectable()
export class OperatorKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly consoles: ConsoleSessions,
  ) {
    this.expected = digest(config.OPERATOR_KEY);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const given = req.header(OPERATOR_KEY_HEADER);
    const console = given === undefined ? cookieToken(req.header('cookie')) : null;
    if (console) {
      const identity = await this.consoles.identify(console, req.header(CSRF_HEADER));
      if (identity.kind !== 'operator')
        throw new CodedError(
          ErrorCodes.AUTH_FAILED,
          'authentication failed: sign in with the operator key for this',
        );
      return true;
    }
    if (!given || !timingSafeEqual(digest(given), this.expected)) {
      throw new CodedError(ErrorCodes.AUTH_FAILED, `missing or wrong ${OPERATOR_KEY_HEADER} header`);
    }
    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
