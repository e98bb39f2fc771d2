import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { ErrorCodes, RunSelfTestProbe, SelfTestProbeRecorded, STREAMS } from '@maskline/contracts';
import { decodeJson, encodeJson } from '@maskline/messaging';
import { TestNatsClient, type RunningProcess } from '@maskline/testing';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';

describe('session-service self-test probe (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;

  beforeAll(async () => {
    ({ nats, app } = await startSessionServiceTestApp('session', {}));
    client = await TestNatsClient.connect(nats.url);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  it('writes the probe, reads it back, and publishes one durable event even when retried', async () => {
    const probeId = randomUUID();
    const first = await client.request(RunSelfTestProbe, { probeId });
    const again = await client.request(RunSelfTestProbe, { probeId });

    expect(first.readBack).toBe(true);
    expect(again.storedAt).toBe(first.storedAt);
    expect(again.eventSequence).toBe(first.eventSequence);

    const jsm = await client.nc.jetstreamManager();
    const stored = await jsm.streams.getMessage(STREAMS.MASKLINE_EVENTS.name, { seq: first.eventSequence });
    expect(stored.subject).toBe(SelfTestProbeRecorded.subject);
    expect(decodeJson(stored.data)).toEqual({ probeId, storedAt: first.storedAt });
    const info = await jsm.streams.info(STREAMS.MASKLINE_EVENTS.name);
    expect(info.state.messages).toBe(1);
  });

  it('rejects a malformed request with a coded validation error naming the field', async () => {
    const reply = await client.requestRaw(RunSelfTestProbe.subject, encodeJson({ probeId: 'not-a-uuid' }));
    expect(reply).toMatchObject({ ok: false, error: { code: ErrorCodes.VALIDATION, field: 'probeId' } });
  });

  it('rejects a body that is not JSON without crashing', async () => {
    const reply = await client.requestRaw(RunSelfTestProbe.subject, new TextEncoder().encode('{nope'));
    expect(reply).toMatchObject({ ok: false, error: { code: ErrorCodes.VALIDATION } });
  });
});
