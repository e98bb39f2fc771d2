import {
  startHttpApp,
  startTestNats,
  testServiceConfig,
  testKey,
  testKeyring,
  testStoreUrl,
  uniqueDbName,
  type HttpTestApp,
  type RunningProcess,
} from '@maskline/testing';
import { gatewayConfigSchema } from '../config/gateway.config';
import { GatewayModule } from '../gateway.module';
import { configureHttp } from '../http/configure-http';
import type { SystemHealth } from './system-health';

describe('gateway /health (real NATS + store)', () => {
  let nats: RunningProcess;
  let gateway: HttpTestApp;

  beforeAll(async () => {
    nats = await startTestNats();
    const config = gatewayConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName('gateway'),
      OPERATOR_KEY: 'x'.repeat(32),
      ACCOUNT_TOKEN_KEYS: testKeyring(),
      ACCOUNT_TOKEN_PEPPER: testKey(),
      CALL_CONTEXT_KEYS: testKeyring(),
      RECORDING_URL_KEYS: testKeyring(),
      HEALTH_TIMEOUT_MS: 300,
    });
    gateway = await startHttpApp(GatewayModule.forRoot(config), configureHttp);
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
  });

  it('stays up and reports a service that does not answer as down, with 503', async () => {
    const res = await fetch(`${gateway.baseUrl}/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as SystemHealth;
    expect(body.status).toBe('degraded');
    expect(body.nats).toEqual({ status: 'up' });
    expect(body.store).toEqual({ status: 'up' });
    expect(body.services.gateway.status).toBe('up');
    expect(body.services['session-service']).toMatchObject({ status: 'down' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('returns the caller X-Request-Id and a Plivo error body for bad JSON', async () => {
    const res = await fetch(`${gateway.baseUrl}/admin/v1/self-test`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-42',
        'x-operator-key': 'x'.repeat(32),
      },
      body: '{bad',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('req-42');
    expect(await res.json()).toEqual({ api_id: 'req-42', error: 'request body is not valid JSON' });
  });

  it('serves the OpenAPI document generated from the request DTOs', async () => {
    const res = await fetch(`${gateway.baseUrl}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toContain('/v1/Account/{auth_id}/Number');
    expect(doc.components.schemas).toHaveProperty('AddNumbersDto');
  });
});
