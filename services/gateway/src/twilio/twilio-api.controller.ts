import { Controller, Inject, Injectable, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBasicAuth, ApiTags } from '@nestjs/swagger';
import { accountSidOf } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { TwilioAuthGuard } from '../auth/twilio-auth.guard';
import type { Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { twilioApiBase } from './proxy-service.view';

/**
 * A Twilio Proxy resource's controller at `path`: in the OpenAPI document's Twilio section, and
 * authenticated as Twilio does (Account SID and Auth Token, or an API key).
 */
export function TwilioApiController(path: string): ClassDecorator {
  return applyDecorators(
    ApiTags('twilio proxy'),
    ApiBasicAuth(),
    UseGuards(TwilioAuthGuard),
    Controller(path),
  );
}

/** What the Twilio API's controllers share: the RPC client, and where the API's own URLs point. */
@Injectable() // its constructor's parameter types, for the controllers that inherit it
export abstract class TwilioApiBase {
  constructor(
    protected readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) protected readonly config: GatewayConfig,
  ) {}

  /** Where `url`, `links` and paging point: this Maskline's public base URL. */
  protected get base(): string {
    return twilioApiBase(this.config);
  }

  /** The caller's Account SID (its subaccount's, when it acts as one). */
  protected accountSid(principal: Principal): string {
    return accountSidOf(principal.subaccountId ?? principal.accountId);
  }
}
