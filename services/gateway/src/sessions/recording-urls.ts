import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RecordingUrlSeal, type Interaction, type SessionView } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/**
 * A call interaction's recording URL for the session's owner: stored sealed by session-service,
 * opened here with `RECORDING_URL_KEYS` (steps stored before URLs were sealed carry it in clear).
 */
@Injectable()
export class RecordingUrls {
  private readonly seal: RecordingUrlSeal;

  constructor(
    @Inject(GATEWAY_CONFIG) config: Pick<GatewayConfig, 'RECORDING_URL_KEYS'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.seal = new RecordingUrlSeal(config.RECORDING_URL_KEYS);
  }

  /** The URL, or null when the call has none or it cannot be opened (a key no longer held: logged). */
  of(session: SessionView, interaction: Interaction): string | null {
    if (interaction.recordingUrl) return interaction.recordingUrl;
    const sealed = interaction.sealedRecordingUrl;
    if (!sealed) return null;
    const binding = {
      accountId: session.accountId,
      sessionId: session.sessionId,
      callId: interaction.callId,
    };
    return this.seal.tryOpen(sealed, binding, (keyId) =>
      this.logger.error(
        { sessionId: session.sessionId, keyId },
        'a recording URL could not be opened (its key is not in RECORDING_URL_KEYS?): shown as none',
      ),
    );
  }
}

/** How a view finds an interaction's recording URL (`RecordingUrls.of`). */
export type RecordingUrlOf = (session: SessionView, interaction: Interaction) => string | null;
