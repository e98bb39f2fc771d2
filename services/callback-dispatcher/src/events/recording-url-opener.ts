import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RecordingUrlSeal } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import { RECORDING_PARAMS } from '../privacy/redact-callback-params';
import type { PlivoCallback } from './plivo-callback';

/**
 * A recording callback's URL, opened with `RECORDING_URL_KEYS` for one attempt only: the callback
 * as kept (its retry's watch, its dead letter) holds it sealed (`PlivoCallback.sealedRecordingUrl`).
 */
@Injectable()
export class RecordingUrlOpener {
  private readonly seal: RecordingUrlSeal;

  constructor(
    @Inject(CALLBACK_DISPATCHER_CONFIG) config: Pick<CallbackDispatcherConfig, 'RECORDING_URL_KEYS'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.seal = new RecordingUrlSeal(config.RECORDING_URL_KEYS);
  }

  /**
   * `params` (the attempt's own copy) with the callback's sealed URL opened into its recording
   * parameters. One that cannot be opened (a key not held) is sent as none, as the session's
   * interactions show it, rather than the callback not at all: logged as an error by key id.
   */
  openInto(callback: PlivoCallback, params: Record<string, string>): void {
    const sealed = callback.sealedRecordingUrl;
    if (!sealed) return;
    const binding = { accountId: callback.accountId, sessionId: callback.sessionId, callId: sealed.callId };
    const url = this.seal.tryOpen(sealed.sealed, binding, (keyId) =>
      this.logger.error(
        { sessionId: callback.sessionId, keyId },
        'a recording URL could not be opened (its key is not in RECORDING_URL_KEYS?): its callback goes without it',
      ),
    );
    if (url) for (const key of RECORDING_PARAMS) params[key] = url;
  }
}
