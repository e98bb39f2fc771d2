import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  DEFAULT_SESSION_SETTINGS,
  GetRoutingSnapshot,
  GetRoutingSnapshotByOffset,
  newSessionId,
  type SessionSettings,
} from '@maskline/contracts';
import {
  TestNatsClient,
  startServiceApp,
  startTestNats,
  testKey,
  testServiceConfig,
  testStoreUrl,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { sessionServiceConfigSchema } from '../config/session-service.config';
import { SessionServiceModule } from '../session-service.module';
import { SessionDocument } from './session.schema';

const ACCOUNT = 'MAROUTINGSNAPSHOT001';
let seq = 0;
const number = () => `+1415557${String(1000 + seq++).padStart(4, '0')}`;

describe('the call routers’ snapshot of live sessions (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let sessions: Model<SessionDocument>;

  beforeAll(async () => {
    nats = await startTestNats();
    const config = sessionServiceConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName('routing-snapshot'),
      PARTY_REDACTION_KEY: testKey(),
    });
    app = await startServiceApp(SessionServiceModule.forRoot(config));
    client = await TestNatsClient.connect(nats.url);
    sessions = app.get(getModelToken(SessionDocument.name));
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  /** Live sessions stored as the system stores them, made one millisecond apart (their ids in that order). */
  async function live(count: number, { withNumber = true } = {}): Promise<string[]> {
    const t = Date.now();
    const docs = Array.from({ length: count }, (_, i) => {
      const createdAt = new Date(t + i);
      return {
        _id: newSessionId(createdAt.getTime()),
        accountId: ACCOUNT,
        subaccountId: null,
        firstParty: withNumber ? number() : null,
        secondParty: withNumber ? number() : null,
        virtualNumber: withNumber ? number() : null,
        allocationId: withNumber ? randomUUID() : null,
        status: 'active',
        settings: { ...DEFAULT_SESSION_SETTINGS } as SessionSettings,
        createdAt,
        modifiedAt: createdAt,
        expiresAt: new Date(t + 3_600_000),
        durationSeconds: 3600,
        expiredAt: null,
      };
    });
    await sessions.insertMany(docs);
    return docs.map((d) => d._id);
  }

  it('gives every session still live, page after page, though one on a page already read ends meanwhile', async () => {
    await sessions.deleteMany({});
    const ids = await live(5);

    const first = await client.request(GetRoutingSnapshot, { after: null, offset: 0, limit: 2 });
    expect(first.sessions.map((s) => s.sessionId)).toEqual(ids.slice(0, 2));
    expect(first.more).toBe(true);
    // The first session ends (moves to the history) before the next page is read.
    await sessions.deleteOne({ _id: ids[0] });

    const rest = await client.request(GetRoutingSnapshot, { after: first.next, offset: 2, limit: 10 });
    expect(rest.sessions.map((s) => s.sessionId)).toEqual(ids.slice(2));
    expect(rest.more).toBe(false);

    // By offset (a router of an earlier release), the same moment skips one that is still live.
    const byOffset = await client.request(GetRoutingSnapshotByOffset, { offset: 2, limit: 10 });
    expect(byOffset.sessions.map((s) => s.sessionId)).toEqual(ids.slice(3));
  });

  it('goes past a page of sessions with nothing to route yet (Proxy sessions before their first participant)', async () => {
    await sessions.deleteMany({});
    const empty = await live(3, { withNumber: false });
    const routable = await live(1);

    const first = await client.request(GetRoutingSnapshot, { after: null, offset: 0, limit: 3 });
    expect(first.sessions).toEqual([]);
    expect(first.more).toBe(true);
    expect(first.next).toBe(empty[2]);
    const second = await client.request(GetRoutingSnapshot, { after: first.next, offset: 0, limit: 3 });
    expect(second.sessions.map((s) => s.sessionId)).toEqual(routable);
    expect(second.more).toBe(false);
  });
});
