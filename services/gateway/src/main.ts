import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadGatewayConfig } from './config/gateway.config';
import { GatewayModule } from './gateway.module';
import { configureHttp } from './http/configure-http';

let config: ReturnType<typeof loadGatewayConfig>;

void bootstrapService({
  service: 'gateway',
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
  },
});
