import { Inject, Injectable } from '@nestjs/common';
import { CodedError } from '@maskline/contracts';
import { UrlGuard } from '@maskline/net-guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/**
 * Refuses callback URLs that would make Maskline call into a private network (SSRF): checked at
 * session create and update, and again by the dispatcher at each delivery (DNS can change).
 */
@Injectable()
export class CallbackUrlChecker {
  private readonly guard: UrlGuard;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.guard = new UrlGuard(config.CALLBACK_HOST_ALLOWLIST);
  }

  async check(fields: Record<string, string | null | undefined>): Promise<void> {
    for (const [field, url] of Object.entries(fields)) {
      if (!url) continue;
      const verdict = await this.guard.check(url);
      if (!verdict.ok) throw CodedError.validation(field, `${field} ${verdict.reason}`);
    }
  }
}
