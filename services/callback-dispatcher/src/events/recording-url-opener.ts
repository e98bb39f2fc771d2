import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RecordingUrlSeal, type CallProgressed, type EventPayloadOf } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';

type CallStep = EventPayloadOf<typeof CallProgressed>;

/**
 * A call step as its recording callback needs it: the recording's URL, sealed in the event
 * (`RecordingUrlSeal`), opened with `RECORDING_URL_KEYS` (events from routers before the seal carry
 * it in clear).
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
   * The step with its recording URL in `recordingUrl`: none when it has none, or when it cannot be
   * opened (a key not held: logged as an error; the callback goes without the URL, as the session's
   * interactions show it, rather than not at all).
   */
  opened(step: CallStep): CallStep {
    const sealed = step.sealedRecordingUrl;
    if (!sealed) return step;
    try {
      return { ...step, recordingUrl: this.seal.open(sealed, step) };
    } catch {
      // Never the sealed value (nor the URL): the key it names, for the operator to look for.
      this.logger.error(
        { sessionId: step.sessionId, keyId: sealed.k },
        'a recording URL could not be opened (its key is not in RECORDING_URL_KEYS?): its callback goes without it',
      );
      return step;
    }
  }
}
