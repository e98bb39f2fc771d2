import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { DEFAULT_SESSION_SETTINGS, newSessionId, type SessionSettings } from '@maskline/contracts';
import { type RunningProcess } from '@maskline/testing';
import { SessionExpirer } from './session-expirer';
import { SessionRepository } from '../sessions/session.repository';
import { ENDED_SESSION_MODEL, SessionDocument } from '../sessions/session.schema';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';

const ACCOUNT = 'MAMARKEDSESSIONS0001';
const SCOPE = { accountId: ACCOUNT };
let seq = 0;
const number = () => `+1415558${String(1000 + seq++).padStart(4, '0')}`;

/**
 * An expiry marks a session ended, then announces it and moves it to the history. These are the
 * store's side of that (one statement for the mark and its copy), the sweep's read of sessions an
 * expiry left marked, and the finishing of one (with its number released and announced, in
 * test/e2e/sessions-resilience).
 */
describe('sessions marked ended (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let sessions: Model<SessionDocument>;
  let repo: SessionRepository;
  let history: Model<SessionDocument>;

  beforeAll(async () => {
    ({ nats, app } = await startSessionServiceTestApp('marked-sessions', {
      // The sweep looks only at start: the tests read its work and end sessions themselves (ending
      // one with a number needs number-pool, which the end-to-end tests run).
      EXPIRY_POLL_MS: '600000',
    }));
    sessions = app.get(getModelToken(SessionDocument.name));
    repo = app.get(SessionRepository);
    history = app.get(getModelToken(ENDED_SESSION_MODEL));
  });

  afterAll(async () => {
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

  it('the mark answers the copy stored after it, with why, an update that landed before included; updates after it fail', async () => {
    const s = await stored();
    expect(await repo.updateActive(SCOPE, s._id, { secondParty: '+14155550199' })).toBe(true);

    const at = new Date();
    const marked = await repo.markEndedSystemWide(s._id, at, 'api');

    expect(marked).toMatchObject({
      _id: s._id,
      status: 'expired',
      expiredAt: at,
      endReason: 'api',
      secondParty: '+14155550199',
    });
    expect(await repo.updateActive(SCOPE, s._id, { secondParty: '+14155550188' })).toBe(false);
    expect((await sessions.findById(s._id).lean())?.secondParty).toBe('+14155550199');
    expect(await repo.markEndedSystemWide(newSessionId(Date.now()), at, 'api')).toBeNull();
    await sessions.deleteOne({ _id: s._id });
  });

  it('the sweep reads every session left marked, whatever its age, before the due ones, and never a tombstone', async () => {
    const recent = await stored({ status: 'expired', expiredAt: new Date(Date.now() - 60_000) });
    const old = await stored({ status: 'expired', expiredAt: new Date(Date.now() - 2 * 86_400_000) });
    const due = await stored({ expiresAt: new Date(Date.now() - 1000) });
    const tombstone = await stored({ status: 'expired', expiredAt: new Date(), abandoned: true });
    const live = await stored();

    const work = (await repo.dueForExpirySystemWide(new Date(), 100)).map((s) => s._id);

    expect(new Set(work.slice(0, 2))).toEqual(new Set([recent._id, old._id]));
    expect(work.slice(2)).toEqual([due._id]);
    // The limit counts both, and the marked ones take half of it at most.
    const two = await repo.dueForExpirySystemWide(new Date(), 2);
    expect(two.map((s) => s.status)).toEqual(['expired', 'active']);
    await sessions.deleteMany({ _id: { $in: [recent._id, old._id, due._id, tombstone._id, live._id] } });
  });

  it('finishes a session found marked, recorded once when an earlier version had recorded it before it stopped', async () => {
    // A Proxy session closed before its first Participant: no number to release or announce.
    const found = await stored({
      status: 'expired',
      expiredAt: new Date(Date.now() - 3_600_000),
      virtualNumber: null,
      allocationId: null,
      firstParty: null,
      secondParty: null,
    });
    // The earlier version recorded it in the collection kept before days.
    await history.create({ ...found });

    await expect(app.get(SessionExpirer).expireIfDue(found._id)).resolves.toEqual({ kind: 'ended' });

    expect(await sessions.findById(found._id).lean()).toBeNull();
    // In the history once: in the collection kept before days, and not again in its day's.
    const db = sessions.db.db!;
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    let records = 0;
    for (const name of names.filter((n) => /^ended_sessions(_\d{8})?$/.test(n)))
      records += await db.collection(name).countDocuments({ _id: found._id as never });
    expect(records).toBe(1);
  });

  // What a number taken or moved ends (NumberOwnerChangeConsumer): the store leaves out its owner's own.
  it('reads a number’s live sessions outside its owner’s account and subaccount (and those of a spared account), a page at a time in id order', async () => {
    const vn = number();
    const other = 'MAMARKEDSESSIONS0002';
    const spared = 'MAMARKEDSESSIONS0003';
    const owner = { accountId: ACCOUNT, subaccountId: 'SAMARKED0001' };
    const mine = await Promise.all([1, 2].map(() => stored({ virtualNumber: vn, ...owner })));
    await stored({ virtualNumber: vn, accountId: spared });
    const outside = [];
    for (let i = 0; i < 3; i++) outside.push(await stored({ virtualNumber: vn, accountId: other }));
    // The owner's account, but its main account or a sibling subaccount: outside too.
    outside.push(await stored({ virtualNumber: vn, subaccountId: 'SAMARKED0002' }));
    outside.push(await stored({ virtualNumber: vn }));
    const ended = await stored({ virtualNumber: vn, accountId: other, status: 'expired' });
    const ids = outside.map((x) => x._id).sort();

    const first = await repo.liveOnNumberOutside(vn, owner, [spared], null, 3);
    expect(first.map((x) => x._id)).toEqual(ids.slice(0, 3));
    expect(first[0]).toEqual({ _id: ids[0], accountId: other, subaccountId: null });
    const rest = await repo.liveOnNumberOutside(vn, owner, [spared], first[2]._id, 3);
    expect(rest.map((x) => x._id)).toEqual(ids.slice(3));
    expect([...mine, ended].some((x) => ids.includes(x._id))).toBe(false);
    // The number the main account's: its subaccounts' sessions and the other account's are outside.
    const main = await repo.liveOnNumberOutside(
      vn,
      { accountId: ACCOUNT, subaccountId: null },
      [spared],
      null,
      10,
    );
    expect(main.map((x) => x._id).sort()).toEqual(
      [...mine, outside[0], outside[1], outside[2], outside[3]].map((x) => x._id).sort(),
    );
  });
});
