import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  DEFAULT_SESSION_SETTINGS,
  STREAMS,
  SessionUpdated,
  newSessionId,
  type SessionSettings,
} from '@maskline/contracts';
import { decodeJson } from '@maskline/messaging';
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
import { SessionAnnouncer } from './session-announcer';
import { SessionDocument } from './session.schema';

const ACCOUNT = 'MARECENTCHANGES00001';
let seq = 0;
const number = () => `+1415557${String(1000 + seq++).padStart(4, '0')}`;

/**
 * A session change whose announcement failed in its request and whose replica stopped before its
 * background tries got it out: the next start announces it again (`announceRecentChanges`), read
 * from the real store and published on the real stream, once.
 */
describe('recent session changes announced again at start (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let sessions: Model<SessionDocument>;

  beforeAll(async () => {
    nats = await startTestNats();
    const config = sessionServiceConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName('recent-changes'),
      PARTY_REDACTION_KEY: testKey(),
      EXPIRY_POLL_MS: '600000',
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

  async function stored(createdAgoMs: number, changedAgoMs: number): Promise<SessionDocument> {
    const now = Date.now();
    const doc = {
      _id: newSessionId(now - createdAgoMs),
      accountId: ACCOUNT,
      subaccountId: null,
      firstParty: number(),
      secondParty: number(),
      virtualNumber: number(),
      allocationId: randomUUID(),
      status: 'active',
      settings: { ...DEFAULT_SESSION_SETTINGS } as SessionSettings,
      createdAt: new Date(now - createdAgoMs),
      modifiedAt: new Date(now - changedAgoMs),
      expiresAt: new Date(now + 3_600_000),
      durationSeconds: 3600,
      expiredAt: null,
    } as SessionDocument;
    await sessions.create(doc);
    return doc;
  }

  it('publishes a live session’s last change within the window under its change’s message id, once however often asked', async () => {
    const changed = await stored(3_600_000, 60_000);
    await stored(60_000, 60_000); // never changed since its creation
    await stored(3_600_000, 9.5 * 60_000); // changed before the window's margin

    expect(await app.get(SessionAnnouncer).announceRecentChanges()).toBe(1);

    const jsm = await client.nc.jetstreamManager();
    const last = await jsm.streams.getMessage(STREAMS.MASKLINE_EVENTS.name, {
      last_by_subj: SessionUpdated.subject,
    });
    expect(last.header.get('Nats-Msg-Id')).toBe(
      `session-updated:${changed._id}:${changed.modifiedAt.getTime()}`,
    );
    expect(decodeJson<{ sessionId: string; at: string }>(last.data)).toMatchObject({
      sessionId: changed._id,
      at: changed.modifiedAt.toISOString(),
    });

    // Asked again (another start): the stream keeps the one announcement.
    expect(await app.get(SessionAnnouncer).announceRecentChanges()).toBe(1);
    const again = await jsm.streams.getMessage(STREAMS.MASKLINE_EVENTS.name, {
      last_by_subj: SessionUpdated.subject,
    });
    expect(again.seq).toBe(last.seq);
  });
});
