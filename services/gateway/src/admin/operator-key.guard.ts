import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { ConsoleSessions } from '../console/console-sessions';

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
    if (given === undefined) {
      const res = context.switchToHttp().getResponse<Response>();
      if (await this.consoles.fromRequest(req, res, 'operator')) return true;
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
