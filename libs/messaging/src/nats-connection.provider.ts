import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import { version as NATS_VERSION } from 'nats/package.json';
import type { Logger } from 'pino';
import { HealthRegistry, LOGGER } from '@maskline/observability';
import { MESSAGING_OPTIONS, NATS_CONNECTION, type MessagingOptions } from './messaging.options';
import { settleAnsweredRequestsQuietly } from './nats-answered-requests.patch';

export const natsConnectionProvider: Provider = {
  provide: NATS_CONNECTION,
  inject: [MESSAGING_OPTIONS, LOGGER, HealthRegistry],
  useFactory: async (
    options: MessagingOptions,
    logger: Logger,
    health: HealthRegistry,
  ): Promise<NatsConnection> => {
    const servers = Array.isArray(options.servers)
      ? options.servers
      : options.servers.split(',').map((s) => s.trim());
    if (!settleAnsweredRequestsQuietly(NATS_VERSION)) {
      logger.warn(
        { nats: NATS_VERSION },
        'nats.js is not the release its request patch was read against; not patched',
      );
    }
    const nc = await connect({
      servers,
      name: options.service,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      pingInterval: 10_000,
      // Request and JetStream-publish errors then carry no extra async stack: capturing one on every
      // request was about a tenth of the call router's CPU. Correlation ids tie errors to calls.
      noAsyncTraces: true,
    });
    logger.info({ server: nc.getServer() }, 'connected to NATS');
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
          logger.warn({ natsStatus: status.type, data: String(status.data) }, 'NATS connection status');
        }
      }
    })().catch((err: unknown) => logger.warn({ err }, 'NATS status stream failed'));
    health.register('nats', async () => {
      if (nc.isClosed() || nc.isDraining()) return { status: 'down', detail: 'connection closed' };
      await nc.flush();
      return { status: 'up' };
    });
    return nc;
  },
};

/** How long a drain of the connection may take before it is closed outright. */
const DRAIN_TIMEOUT_MS = 5000;

/**
 * Closes the connection last: after RPC handlers and consumers have drained (they do it before
 * shutdown). A drain that does not finish (a subscription that never settles) is cut short after
 * DRAIN_TIMEOUT_MS: shutdown never waits on it until the orchestrator's kill.
 */
@Injectable()
export class NatsConnectionCloser implements OnApplicationShutdown {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.nc.drain(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`NATS drain took over ${DRAIN_TIMEOUT_MS} ms`)),
            DRAIN_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (err) {
      this.logger.warn({ err }, 'NATS drain failed; closing');
      if (!this.nc.isClosed()) await this.nc.close();
    } finally {
      clearTimeout(timer);
    }
  }
}
