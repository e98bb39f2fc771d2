import { SERVICE_NAMES } from '@maskline/contracts';
import { expectEventually } from '@maskline/testing';
import { E2eSystem, type ServiceName } from './support/e2e-system';

const ALL: ServiceName[] = [...SERVICE_NAMES];

describe('walking skeleton: the whole system through the gateway', () => {
  let system: E2eSystem;

  beforeAll(async () => {
    system = await E2eSystem.start();
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('reports every service, NATS and the store as up', async () => {
    const res = await fetch(`${system.baseUrl}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; services: Record<string, { status: string }> };
    expect(body.status).toBe('up');
    expect(Object.keys(body.services).sort()).toEqual([...ALL].sort());
    // Anyone may read it: statuses only, never a replica's host and process, version, uptime or error.
    expect(Object.values(body.services)).toEqual(ALL.map(() => ({ status: 'up' })));
    expect(body).toMatchObject({ nats: { status: 'up' }, store: { status: 'up' } });
    expect(Object.keys(body).sort()).toEqual(['nats', 'services', 'status', 'store']);
    expect(Object.keys((body as unknown as { nats: object }).nats)).toEqual(['status']);
    // The operator's view has them.
    const detailed = await fetch(`${system.baseUrl}/admin/v1/system`, {
      headers: { 'x-operator-key': system.operatorKey },
    });
    expect(detailed.status).toBe(200);
    expect(JSON.stringify(await detailed.json())).toContain('"instance"');
  });

  it('runs the self-test through every layer and carries the correlation id into every service touched', async () => {
    const res = await fetch(`${system.baseUrl}/admin/v1/self-test`, {
      method: 'POST',
      headers: { 'x-operator-key': system.operatorKey, 'x-request-id': 'e2e-selftest-1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('e2e-selftest-1');
    const body = (await res.json()) as { store_round_trip: boolean; event_consumed: boolean };
    expect(body).toMatchObject({ store_round_trip: true, event_consumed: true });

    for (const service of ['gateway', 'session-service', 'callback-dispatcher'] as const) {
      await expectEventually(() => {
        const tagged = system.logs(service).filter((r) => r.correlationId === 'e2e-selftest-1');
        expect(tagged.length).toBeGreaterThan(0);
      });
    }
  });

  it('refuses the operator API without the operator key, in Plivo error shape', async () => {
    const res = await fetch(`${system.baseUrl}/admin/v1/self-test`, { method: 'POST' });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { api_id: string; error: string };
    expect(body.api_id).toBe(res.headers.get('x-request-id'));
    expect(body.error).toMatch(/X-Operator-Key/);
  });

  it('serves Prometheus metrics from every service', async () => {
    for (const service of ALL) {
      const res = await fetch(`http://127.0.0.1:${system.opsPort(service)}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain(`process_cpu_user_seconds_total{service="${service}"}`);
    }
    const session = await (
      await fetch(`http://127.0.0.1:${system.opsPort('session-service')}/metrics`)
    ).text();
    expect(session).toMatch(
      /maskline_rpc_server_seconds_count\{.*subject="session-service.self-test.run.v1"/,
    );
  });

  it('keeps the gateway up when a service dies, shows it down, and recovers when it is back', async () => {
    await system.stopService('call-router', 'SIGKILL');
    const res = await fetch(`${system.baseUrl}/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { services: Record<string, { status: string }> };
    // Down, and nothing of why (the error is the operator's).
    expect(body.services['call-router']).toEqual({ status: 'down' });
    expect(body.services['session-service'].status).toBe('up');

    system.startService('call-router');
    await system.waitHealthy();
  });

  it('drains and exits cleanly on SIGTERM', async () => {
    const { code } = await system.stopService('pin-auth', 'SIGTERM');
    expect(code).toBe(0);
    const messages = system.logs('pin-auth').map((r) => r.msg);
    expect(messages).toContain('shutting down: draining NATS subscriptions and in-flight work');
    expect(messages).toContain('stopped');
    system.startService('pin-auth');
    await system.waitHealthy();
  });
});
