import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadGatewayConfig, gatewayConfigSchema } from './config/gateway.config';
import { GatewayModule } from './gateway.module';
import { configureHttp } from './http/configure-http';

let config: ReturnType<typeof loadGatewayConfig>;

void bootstrapService({
  service: 'gateway',
  configSchema: gatewayConfigSchema,
  module: () => {
    config = loadGatewayConfig();
    return GatewayModule.forRoot(config);
  },
  http: {
    get port() {
      return config.HTTP_PORT;
    },
    get host() {
      return config.HTTP_HOST;
    },
    configure: configureHttp,
    get drain() {
      return { delayMs: config.HTTP_DRAIN_DELAY_MS, graceMs: config.SHUTDOWN_GRACE_MS };
    },
  },
});
