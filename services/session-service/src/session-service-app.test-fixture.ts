import {
  startServiceApp,
  startTestNats,
  testKey,
  testServiceConfig,
  testStoreUrl,
  uniqueDbName,
} from '@maskline/testing';
import { sessionServiceConfigSchema } from './config/session-service.config';
import { SessionServiceModule } from './session-service.module';

/**
 * session-service in this process for an integration test: a NATS server of its own, a database of
 * its own on the test store (named after `name`), and `env` over the test defaults.
 */
export async function startSessionServiceTestApp(
  name: string,
  env: Record<string, string> = {},
  options: { clock?: () => number } = {},
) {
  const nats = await startTestNats();
  try {
    const config = sessionServiceConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName(name),
      PARTY_REDACTION_KEY: testKey(),
      ...env,
    });
    const app = await startServiceApp(SessionServiceModule.forRoot(config), options);
    return { nats, app, config };
  } catch (err) {
    await nats.stop();
    throw err;
  }
}
