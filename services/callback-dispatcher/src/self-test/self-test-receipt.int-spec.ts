import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { GetSelfTestReceipt, SelfTestProbeRecorded, STREAMS } from '@maskline/contracts';
import { encodeJson } from '@maskline/messaging';
import {
  TestNatsClient,
  expectEventually,
  startServiceApp,
  startTestNats,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { CallbackDispatcherModule } from '../callback-dispatcher.module';
import { testDispatcherConfig } from '../config/callback-dispatcher-config.test-fixture';

describe('callback-dispatcher durable consumer (real NATS + store)', () => {
  let nats: RunningProcess;
  let client: TestNatsClient;
  const dbName = uniqueDbName('dispatcher');

  const start = (natsUrl: string) =>
    startServiceApp(CallbackDispatcherModule.forRoot(testDispatcherConfig(natsUrl, { MONGO_DB: dbName })));

  const publishProbe = async (
    probeId: string,
    payload: unknown = { probeId, storedAt: new Date().toISOString() },
  ) => {
    const ack = await client.nc.jetstream().publish(SelfTestProbeRecorded.subject, encodeJson(payload), {
      msgID: `test:${probeId}`,
    });
    return ack.seq;
  };

  beforeAll(async () => {
    nats = await startTestNats();
    client = await TestNatsClient.connect(nats.url);
  });

  afterAll(async () => {
    await client?.close();
    await nats?.stop();
  });

  it('keeps its position across a restart: an event published while it is down is consumed after', async () => {
    let app: INestApplicationContext = await start(nats.url);
    const before = randomUUID();
    const seqBefore = await publishProbe(before);
    await expectEventually(async () => {
      expect(await client.request(GetSelfTestReceipt, { probeId: before })).toMatchObject({
        received: true,
        streamSequence: seqBefore,
      });
    });

    await app.close();
    const whileDown = randomUUID();
    await publishProbe(whileDown);
    const jsm = await client.nc.jetstreamManager();
    const pending = await jsm.consumers.info(STREAMS.MASKLINE_EVENTS.name, 'callback-dispatcher-self-test');
    expect(pending.num_pending).toBe(1);

    app = await start(nats.url);
    try {
      await expectEventually(async () => {
        expect(await client.request(GetSelfTestReceipt, { probeId: whileDown })).toMatchObject({
          received: true,
        });
      });
      await expectEventually(async () => {
        const info = await jsm.consumers.info(STREAMS.MASKLINE_EVENTS.name, 'callback-dispatcher-self-test');
        expect(info.num_pending + info.num_ack_pending).toBe(0);
      });
    } finally {
      await app.close();
    }
  });

  it('terminates an event whose payload breaks the contract instead of retrying it forever, and goes on', async () => {
    const app = await start(nats.url);
    try {
      const broken = randomUUID();
      await publishProbe(broken, { probeId: broken });
      const good = randomUUID();
      await publishProbe(good);
      await expectEventually(async () => {
        expect(await client.request(GetSelfTestReceipt, { probeId: good })).toMatchObject({ received: true });
      });
      const jsm = await client.nc.jetstreamManager();
      await expectEventually(async () => {
        const info = await jsm.consumers.info(STREAMS.MASKLINE_EVENTS.name, 'callback-dispatcher-self-test');
        expect(info.num_ack_pending).toBe(0);
        expect(info.num_redelivered).toBe(0);
      });
      expect(await client.request(GetSelfTestReceipt, { probeId: broken })).toMatchObject({
        received: false,
      });
    } finally {
      await app.close();
    }
  });
});
