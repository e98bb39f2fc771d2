import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  DEFAULT_SESSION_SETTINGS,
  GetRoutingSnapshot,
  GetRoutingSnapshotByOffset,
  GetSessionsOnNumber,
  GetSessionsOnNumberWhole,
  newSessionId,
  type RpcReplyOf,
  type SessionSettings,
} from '@maskline/contracts';
import { TestNatsClient, type RunningProcess } from '@maskline/testing';
import { SessionDocument } from './session.schema';
import { startSessionServiceTestApp } from '../session-service-app.test-fixture';

const ACCOUNT = 'MAROUTINGSNAPSHOT001';
let seq = 0;
const number = () => `+1415557${String(1000 + seq++).padStart(4, '0')}`;

describe('the call routers’ snapshot of live sessions (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let client: TestNatsClient;
  let sessions: Model<SessionDocument>;

  beforeAll(async () => {
    ({ nats, app } = await startSessionServiceTestApp('routing-snapshot', {}));
    client = await TestNatsClient.connect(nats.url);
    sessions = app.get(getModelToken(SessionDocument.name));
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.stop();
  });

  /** Live sessions stored as the system stores them, made one millisecond apart (their ids in that order). */
  async function live(
    count: number,
    {
      withNumber = true,
      on = undefined as string | undefined,
      settings = {} as Partial<SessionSettings>,
    } = {},
  ): Promise<string[]> {
    const t = Date.now();
    const docs = Array.from({ length: count }, (_, i) => {
      const createdAt = new Date(t + i);
      return {
        _id: newSessionId(createdAt.getTime()),
        accountId: ACCOUNT,
        subaccountId: null,
        firstParty: withNumber ? number() : null,
        secondParty: withNumber ? number() : null,
        virtualNumber: withNumber ? (on ?? number()) : null,
        allocationId: withNumber ? randomUUID() : null,
        status: 'active',
        settings: { ...DEFAULT_SESSION_SETTINGS, ...settings } as SessionSettings,
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
  /** Every URL setting a tenant may give a session, at its longest (2,048 characters). */
  const LONGEST_URLS: Partial<SessionSettings> = Object.fromEntries(
    [
      'callbackUrl',
      'recordingCallbackUrl',
      'firstPartyPlayUrl',
      'secondPartyPlayUrl',
      'pinPromptPlay',
      'incorrectPinPlay',
      'unknownCallerPlay',
    ].map((key) => [key, `https://127.0.0.1/${key}/${'a'.repeat(2048 - 19 - key.length)}`]),
  );

  it('answers every session on a number in pages NATS carries, however many and however long their settings', async () => {
    await sessions.deleteMany({});
    const vn = number();
    // About 15 KB each as routing sees them: 120 of them would be a reply of 1.8 MB, past NATS's 1 MB.
    const ids = await live(120, { on: vn, settings: LONGEST_URLS });
    await live(3); // on other numbers

    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const page: RpcReplyOf<typeof GetSessionsOnNumber> = await client.request(GetSessionsOnNumber, {
        virtualNumber: vn,
        after,
      });
      expect(JSON.stringify(page).length).toBeLessThan(512 * 1024);
      pages.push(page.sessions.map((s) => s.sessionId));
      if (!page.more) break;
      after = page.next;
    }
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toEqual(ids);

    // Asked whole (a router of an earlier release): told at once that it cannot be carried, not left
    // to wait for its timeout.
    const startedAt = Date.now();
    await expect(client.request(GetSessionsOnNumberWhole, { virtualNumber: vn })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    expect(Date.now() - startedAt).toBeLessThan(2000);
    // A number with few sessions is still answered whole.
    const few = number();
    const small = await live(2, { on: few });
    const whole = await client.request(GetSessionsOnNumberWhole, { virtualNumber: few });
    expect(whole.sessions.map((s) => s.sessionId).sort()).toEqual([...small].sort());
  });

  it('gives a snapshot of sessions with the longest settings in pages NATS carries, every one of them', async () => {
    await sessions.deleteMany({});
    const ids = await live(120, { settings: LONGEST_URLS });
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: RpcReplyOf<typeof GetRoutingSnapshot> = await client.request(GetRoutingSnapshot, {
        after,
        offset: 0,
        limit: 500,
      });
      pages++;
      seen.push(...page.sessions.map((s) => s.sessionId));
      if (!page.more) break;
      after = page.next;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(ids);
  });
});
