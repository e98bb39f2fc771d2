import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import {
  CONSOLE_PATH,
  consoleAssetsMiddleware,
  defaultConsoleDir,
} from '../console/console-assets.middleware';
import { bodyParsers } from './body-parsers';
import { correlationIdMiddleware } from './correlation-id.middleware';
import { docsSecurityMiddleware } from './docs-security.middleware';
import { DOCS_PATH, setupOpenApi } from './openapi';
import { methodNotAllowedMiddleware } from './method-not-allowed.middleware';
import { noStoreMiddleware } from './no-store.middleware';
import { queryShapeMiddleware } from './query-shape.middleware';
import { requestLogMiddleware } from './request-log.middleware';

/** Express settings shared by `main.ts` and the tests, so both run the same HTTP stack. */
export function configureHttp(app: NestExpressApplication): void {
  const config = app.get<GatewayConfig>(GATEWAY_CONFIG);
  const logger = app.get<Logger>(LOGGER);
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.set('query parser', 'simple');
  app.use(correlationIdMiddleware);
  app.use(requestLogMiddleware(logger));
  // The console's files (its API calls go through the routes below like anyone's).
  app.use(CONSOLE_PATH, consoleAssetsMiddleware(config.CONSOLE_ASSETS_DIR ?? defaultConsoleDir()));
  app.use(noStoreMiddleware);
  app.use(methodNotAllowedMiddleware(app.getHttpAdapter().getInstance()));
  app.use(queryShapeMiddleware);
  for (const parser of bodyParsers(config.MAX_BODY_BYTES)) app.use(parser);
  app.use(DOCS_PATH, docsSecurityMiddleware);
  setupOpenApi(app, config.MASKLINE_VERSION);
}
