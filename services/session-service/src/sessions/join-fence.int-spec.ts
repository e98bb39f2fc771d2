import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { DEFAULT_SESSION_SETTINGS, newSessionId, type SessionSettings } from '@maskline/contracts';
import { type RunningProcess } from '@maskline/testing';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';
import { SessionRepository, firstJoinGuard, secondJoinGuard } from './session.repository';
import { SessionDocument } from './session.schema';

const SCOPE = { accountId: 'MAFIRSTJOINFENCE0001' };
const OTHER = { accountId: 'MAFIRSTJOINFENCE0002' };
let seq = 0;
const number = () => `+1415557${String(1000 + seq++).padStart(4, '0')}`;

/**
 * The store's side of the writes that give a Proxy session its number and first participant
 * (`firstJoinGuard`), then its second participant (`secondJoinGuard`): each lands only while the
 * session has no number (no second party) and its join fence is as it was read, so a fence stops a
 * write whose outcome was unknown from landing later (its number can be given back; its participant
 * is not in the session its routers were told of).
 */
describe('the participants’ session writes, and their fence (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let sessions: Model<SessionDocument>;
  let repo: SessionRepository;

  beforeAll(async () => {
    ({ nats, app } = await startSessionServiceTestApp('join-fence', { EXPIRY_POLL_MS: '600000' }));
    sessions = app.get(getModelToken(SessionDocument.name));
    repo = app.get(SessionRepository);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  /** A live Proxy session with no participant yet: no number, never fenced (no join fence). */
  async function empty(scope = SCOPE): Promise<SessionDocument> {
    const createdAt = new Date();
    const doc = {
      _id: newSessionId(createdAt.getTime()),
      accountId: scope.accountId,
      subaccountId: null,
      firstParty: null,
      secondParty: null,
      virtualNumber: null,
      allocationId: null,
      status: 'active',
      settings: { ...DEFAULT_SESSION_SETTINGS } as SessionSettings,
      createdAt,
      modifiedAt: createdAt,
      expiresAt: new Date(createdAt.getTime() + 3_600_000),
      durationSeconds: 3600,
      expiredAt: null,
    } as SessionDocument;
    await sessions.create(doc);
    return doc;
  }

  /** The first participant's write: its number and party (Proxy facts aside). */
  const join = (s: SessionDocument, scope = SCOPE, fenceAsRead = s.joinFence ?? null) =>
    repo.setProxyFields(
      scope,
      s._id,
      {},
      { virtualNumber: number(), allocationId: randomUUID(), firstParty: number() },
      firstJoinGuard(fenceAsRead),
    );

  it('a fenced write never lands late; one reading the session again does, and its fence then says it landed', async () => {
    const s = await empty();
    // The write's outcome was unknown: fenced while the session still has no number.
    expect(await repo.fenceFirstJoin(SCOPE, s._id, null)).toBe(true);
    // Run late by the store, it changes nothing.
    expect(await join(s)).toBe(false);
    expect((await repo.get(SCOPE, s._id))?.virtualNumber).toBeNull();

    // The participant added again reads the session again: it lands.
    const now = (await repo.get(SCOPE, s._id))!;
    expect(now.joinFence).toEqual(expect.any(String));
    expect(await join(now)).toBe(true);
    // Had that write's answer been lost, its fence finds the number set: it landed, keep the number.
    expect(await repo.fenceFirstJoin(SCOPE, s._id, now.joinFence ?? null)).toBe(false);
    expect((await repo.get(SCOPE, s._id))?.virtualNumber).toEqual(expect.any(String));
  });

  it('another account’s fence or write of the session changes nothing', async () => {
    const s = await empty();
    expect(await repo.fenceFirstJoin(OTHER, s._id, null)).toBe(false);
    expect(await join(s, OTHER)).toBe(false);
    // Not fenced by it: the owner's write, as read, still lands.
    expect(await join(s)).toBe(true);
  });

  /** The second participant's write: its party, while the session has none. */
  const joinSecond = (s: SessionDocument, party: string, fenceAsRead = s.joinFence ?? null) =>
    repo.setProxyFields(SCOPE, s._id, {}, { secondParty: party }, secondJoinGuard(fenceAsRead));

  it('a second participant’s fenced write never lands late; one that landed is seen by its fence, and no other lands after it', async () => {
    const s = await empty();
    expect(await join(s)).toBe(true);
    const one = (await repo.get(SCOPE, s._id))!;
    const [late, again, other] = [number(), number(), number()];
    // Its outcome unknown: fenced while the session has no second party; run late, it changes nothing.
    expect(await repo.fenceSecondJoin(SCOPE, s._id, one.joinFence ?? null)).toBe(true);
    expect(await joinSecond(one, late)).toBe(false);
    expect((await repo.get(SCOPE, s._id))?.secondParty).toBeNull();

    // Added again, from the session read again: it lands, and its fence then says so.
    const now = (await repo.get(SCOPE, s._id))!;
    expect(await joinSecond(now, again)).toBe(true);
    expect(await repo.fenceSecondJoin(SCOPE, s._id, now.joinFence ?? null)).toBe(false);
    // A write by another add, as it read the session before: refused, the second party kept.
    expect(await joinSecond(now, other)).toBe(false);
    expect(await repo.get(SCOPE, s._id)).toMatchObject({
      secondParty: again,
      virtualNumber: expect.any(String),
    });
  });

  it('another account’s second join or fence of the session changes nothing', async () => {
    const s = await empty();
    expect(await join(s)).toBe(true);
    const one = (await repo.get(SCOPE, s._id))!;
    expect(await repo.fenceSecondJoin(OTHER, s._id, one.joinFence ?? null)).toBe(false);
    expect(
      await repo.setProxyFields(
        OTHER,
        s._id,
        {},
        { secondParty: number() },
        secondJoinGuard(one.joinFence ?? null),
      ),
    ).toBe(false);
    expect((await repo.get(SCOPE, s._id))?.secondParty).toBeNull();
  });
});
