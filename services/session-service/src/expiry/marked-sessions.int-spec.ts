import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Subscription } from 'nats';
import {
  DEFAULT_SESSION_SETTINGS,
  GetSession,
  SessionExpired,
  newSessionId,
  type SessionSettings,
} from '@maskline/contracts';
import { decodeJson } from '@maskline/messaging';
import {
  TestNatsClient,
  expectEventually,
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
import { STRANDED_AFTER_MS, SessionRepository } from '../sessions/session.repository';
import { SessionDocument } from '../sessions/session.schema';

const ACCOUNT = 'MAMARKEDSESSIONS0001';
const SCOPE = { accountId: ACCOUNT };
let seq = 0;
const number = () => `+1415558${String(1000 + seq++).padStart(4, '0')}`;

/**
 * An expiry marks a session ended, then announces it and moves it to the history. These are the
 * store's side of that (one statement for the mark and its copy) and the expiry sweep finishing a
 * session whose expiry stopped after the mark (its replica died).
 */
describe('sessions marked ended (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let sessions: Model<SessionDocument>;
  let repo: SessionRepository;
  let expiredEvents: Subscription;
  const announced: string[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
    const config = sessionServiceConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName('marked-sessions'),
      PARTY_REDACTION_KEY: testKey(),
      // The sweep looks often: a session left marked is found within a second.
      EXPIRY_POLL_MS: '300',
    });
    app = await startServiceApp(SessionServiceModule.forRoot(config));
    client = await TestNatsClient.connect(nats.url);
    sessions = app.get(getModelToken(SessionDocument.name));
    repo = app.get(SessionRepository);
    expiredEvents = client.nc.subscribe(SessionExpired.subject);
    void (async () => {
      for await (const m of expiredEvents)
        announced.push((decodeJson(m.data) as { sessionId: string }).sessionId);
    })();
  });

  afterAll(async () => {
    expiredEvents?.unsubscribe();
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  /** A session stored as the system stores it: live, due in an hour unless told otherwise. */
  async function stored(over: Partial<SessionDocument> = {}): Promise<SessionDocument> {
    const createdAt = new Date();
    const doc = {
      _id: newSessionId(createdAt.getTime()),
      accountId: ACCOUNT,
      subaccountId: null,
      firstParty: number(),
      secondParty: number(),
      virtualNumber: number(),
      allocationId: randomUUID(),
      status: 'active',
      settings: { ...DEFAULT_SESSION_SETTINGS } as SessionSettings,
      createdAt,
      modifiedAt: createdAt,
      expiresAt: new Date(createdAt.getTime() + 3_600_000),
      durationSeconds: 3600,
      expiredAt: null,
      ...over,
    } as SessionDocument;
    await sessions.create(doc);
    return doc;
  }

  it('the mark answers the copy stored after it, an update that landed before included; updates after it fail', async () => {
    const s = await stored();
    expect(await repo.updateActive(SCOPE, s._id, { secondParty: '+14155550199' })).toBe(true);

    // Marked as ended long ago, so that the sweep leaves it to the retention catch-up meanwhile.
    const at = new Date(Date.now() - STRANDED_AFTER_MS - 60_000);
    const marked = await repo.markEndedSystemWide(s._id, at);

    expect(marked).toMatchObject({
      _id: s._id,
      status: 'expired',
      expiredAt: at,
      secondParty: '+14155550199',
    });
    expect(await repo.updateActive(SCOPE, s._id, { secondParty: '+14155550188' })).toBe(false);
    expect((await sessions.findById(s._id).lean())?.secondParty).toBe('+14155550199');
    expect(await repo.markEndedSystemWide(`${s._id}x`, at)).toBeNull();
    await sessions.deleteOne({ _id: s._id });
  });

  it('the sweep finishes a session left marked by an expiry that stopped: announced once, moved to the history', async () => {
    // Ended through the API an hour before its expiry; the replica died after the mark.
    const endedAt = new Date(Date.now() - 60_000);
    const left = await stored({ status: 'expired', expiredAt: endedAt, endReason: 'api' });

    await expectEventually(async () => {
      expect(await sessions.findById(left._id).lean()).toBeNull();
    });
    const shown = await client.request(GetSession, { scope: SCOPE, sessionId: left._id });
    expect(shown).toMatchObject({ sessionId: left._id, status: 'expired' });
    await expectEventually(() => expect(announced.filter((id) => id === left._id)).toEqual([left._id]));
  });

  it('the sweep leaves to the retention catch-up what ended before the duplicate window, and never touches tombstones', async () => {
    const old = await stored({
      status: 'expired',
      expiredAt: new Date(Date.now() - STRANDED_AFTER_MS - 60_000),
    });
    const tombstone = await stored({ status: 'expired', expiredAt: new Date(), abandoned: true });
    const live = await stored();

    const work = (await repo.dueForExpirySystemWide(new Date(), 100)).map((s) => s._id);

    expect(work).not.toContain(old._id);
    expect(work).not.toContain(tombstone._id);
    expect(work).not.toContain(live._id);
    // The next sweeps found nothing to do with them either: both still where they were.
    expect((await sessions.findById(old._id).lean())?.status).toBe('expired');
    expect((await sessions.findById(tombstone._id).lean())?.abandoned).toBe(true);
    expect(announced).not.toContain(old._id);
    await sessions.deleteMany({ _id: { $in: [old._id, tombstone._id, live._id] } });
  });
});
