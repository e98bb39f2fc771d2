import type { SystemResponse } from './operator.types';
import { summarizeSystem } from './system-status';

const system = (overrides: Partial<SystemResponse> = {}): SystemResponse => ({
  api_id: 'x',
  status: 'degraded',
  nats: { status: 'up' },
  store: { status: 'down', detail: 'connection refused' },
  services: {
    gateway: { service: 'gateway', status: 'up' },
    'pin-auth': {
      service: 'pin-auth',
      status: 'down',
      detail: 'not answering',
      checks: { store: { status: 'down', detail: 'timeout' }, nats: { status: 'up' } },
    },
  },
  breakers: [
    { service: 'gateway', name: 'session-manager', state: 'closed' },
    { service: 'call-router', name: 'pin-auth', state: 'half-open' },
    { service: 'gateway', name: 'number-pool', state: 'open' },
  ],
  consumers: [
    { stream: 'EVENTS', consumer: 'callbacks', pending: 2, ack_pending: 0, redelivered: 0 },
    { stream: 'EVENTS', consumer: 'analytics', pending: 90, ack_pending: 3, redelivered: 1 },
  ],
  ...overrides,
});

describe('summarizeSystem', () => {
  it('puts problems first and spells out each service check', () => {
    const summary = summarizeSystem(system());
    expect(summary.overall).toEqual({ status: 'degraded', tone: 'warn' });
    expect(summary.store).toEqual({
      name: 'Store',
      status: 'down',
      tone: 'bad',
      detail: 'connection refused',
    });
    expect(summary.services.map((s) => s.name)).toEqual(['pin-auth', 'gateway']);
    expect(summary.services[0].detail).toBe('not answering; store: down (timeout); nats: up');
  });

  it('lists open breakers first and counts those not closed', () => {
    const summary = summarizeSystem(system());
    expect(summary.breakers.map((b) => `${b.name}:${b.state}:${b.tone}`)).toEqual([
      'number-pool:open:bad',
      'pin-auth:half-open:warn',
      'session-manager:closed:good',
    ]);
    expect(summary.openBreakers).toBe(2);
    expect(summarizeSystem(system({ breakers: [] })).openBreakers).toBe(0);
  });

  it('lists the consumers with the most pending messages first', () => {
    expect(summarizeSystem(system()).consumers.map((c) => c.consumer)).toEqual(['analytics', 'callbacks']);
  });
});
