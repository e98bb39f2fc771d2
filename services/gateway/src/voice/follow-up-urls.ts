import { Inject, Injectable } from '@nestjs/common';
import { followUpUrl, type CallContextBinding, type FollowUp } from '@maskline/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/**
 * The URLs Maskline writes into its own XML, each carrying a call context bound to the call and
 * number of the request being answered, signed with Maskline's key.
 */
@Injectable()
export class FollowUpUrls {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /** A URL maker for one answer: every follow-up it makes is bound to `binding`. */
  for(binding: CallContextBinding): (followUp: FollowUp) => string {
    const options = {
      nowSeconds: Math.floor(Date.now() / 1000),
      ttlSeconds: this.config.CALL_CONTEXT_TTL_SECONDS,
    };
    return (followUp) =>
      followUpUrl(this.config.PUBLIC_BASE_URL, followUp, binding, this.config.CALL_CONTEXT_KEYS, options);
  }
}
