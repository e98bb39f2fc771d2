import { Inject, Injectable } from '@nestjs/common';
import { redactPartyNumber, redactionKeyId } from '@maskline/contracts';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import { redactCallbackParams } from './redact-callback-params';

/** A callback's parameters as redaction leaves them: each party's number its keyed digest. */
@Injectable()
export class CallbackPartyRedaction {
  /** Which key this deployment's digests are made under now. */
  readonly keyId: string;

  constructor(@Inject(CALLBACK_DISPATCHER_CONFIG) private readonly config: CallbackDispatcherConfig) {
    this.keyId = redactionKeyId(config.PARTY_REDACTION_KEY);
  }

  redactedParams(accountId: string, params: Record<string, string>): Record<string, string> {
    return redactCallbackParams(params, (e164) =>
      redactPartyNumber(this.config.PARTY_REDACTION_KEY, accountId, e164),
    );
  }
}
