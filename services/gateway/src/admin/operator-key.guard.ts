import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

export const OPERATOR_KEY_HEADER = 'X-Operator-Key';

/** Guards the operator API: `X-Operator-Key` must equal OPERATOR_KEY (compared in constant time). */
@Injectable()
export class OperatorKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.expected = digest(config.OPERATOR_KEY);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const given = req.header(OPERATOR_KEY_HEADER);
    if (!given || !timingSafeEqual(digest(given), this.expected)) {
      throw new CodedError(ErrorCodes.AUTH_FAILED, `missing or wrong ${OPERATOR_KEY_HEADER} header`);
    }
    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
