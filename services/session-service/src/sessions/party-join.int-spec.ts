import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { DEFAULT_SESSION_SETTINGS, newSessionId, type SessionSettings } from '@maskline/contracts';
import { type RunningProcess } from '@maskline/testing';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';
import { partyJoin } from './party-join';
import { SessionRepository } from './session.repository';
import { SessionDocument } from './session.schema';

const SCOPE = { accountId: 'MAPARTYJOINPARTYJ001' };
const OTHER = { accountId: 'MAPARTYJOINPARTYJ002' };
let seq = 0;
const number = () => `+1415557${String(1000 + seq++).padStart(4, '0')}`;

/**
 * The store's side of a session write that adds a party (`PartyJoin`): it lands only while the party
 * is unset and the session's join fence is as it read it, so a fence stops a write that failed
 * from landing later, and its party can be given back.
 */
describe('a session write adding a party, and its fence (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let sessions: Model<SessionDocument>;
  let repo: SessionRepository;

  beforeAll(async () => {
    ({ nats, app } = await startSessionServiceTestApp('party-join', { EXPIRY_POLL_MS: '600000' }));
    sessions = app.get(getModelToken(SessionDocument.name));
    repo = app.get(SessionRepository);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  /** A live single-party session, as the system stores one (never fenced: no join fence). */
  async function single(scope = SCOPE): Promise<SessionDocument> {
    const createdAt = new Date();
    const doc = {
      _id: newSessionId(createdAt.getTime()),
      accountId: scope.accountId,
      subaccountId: null,
      firstParty: number(),
      secondParty: null,
      virtualNumber: number(),
      allocationId: randomUUID(),
      status: 'active',
      settings: { ...DEFAULT_SESSION_SETTINGS, createSessionWithSingleParty: true } as SessionSettings,
      createdAt,
      modifiedAt: createdAt,
      expiresAt: new Date(createdAt.getTime() + 3_600_000),
      durationSeconds: 3600,
      expiredAt: null,
    } as SessionDocument;
    await sessions.create(doc);
    return doc;
  }

  it('a fenced write never lands late; a write reading the session again does, and its fence then says it landed', async () => {
    const s = await single();
    const failed = partyJoin(s, ['secondParty'])!;
    // The write failed (no answer): fenced while its party is still unset.
    expect(await repo.fenceJoin(SCOPE, s._id, failed)).toBe(true);
    // Run late by the store, it changes nothing.
    const late = number();
    expect(await repo.updateActive(SCOPE, s._id, { secondParty: late }, failed)).toBe(false);
    expect((await repo.get(SCOPE, s._id))?.secondParty).toBeNull();

    // The change asked again reads the session again: it lands.
    const now = (await repo.get(SCOPE, s._id))!;
    const again = partyJoin(now, ['secondParty'])!;
    const joined = number();
    expect(await repo.updateActive(SCOPE, s._id, { secondParty: joined }, again)).toBe(true);
    // Had that write's answer been lost, its fence finds the party set: it landed, nothing to give back.
    expect(await repo.fenceJoin(SCOPE, s._id, again)).toBe(false);
    expect((await repo.get(SCOPE, s._id))?.secondParty).toBe(joined);
  });

  it('another account’s fence or write of the session changes nothing', async () => {
    const s = await single();
    const join = partyJoin(s, ['secondParty'])!;
    expect(await repo.fenceJoin(OTHER, s._id, join)).toBe(false);
    expect(await repo.updateActive(OTHER, s._id, { secondParty: number() }, join)).toBe(false);
    // Not fenced by it: the owner's write, as read, still lands.
    expect(await repo.updateActive(SCOPE, s._id, { secondParty: number() }, join)).toBe(true);
  });
});
