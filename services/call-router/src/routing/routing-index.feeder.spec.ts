import { DEFAULT_SESSION_SETTINGS, type RoutingSession } from '@maskline/contracts';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { RpcClient } from '@maskline/messaging';
import type { CallRouterConfig } from '../config/call-router.config';
import { RoutingIndex } from './routing-index';
import { RoutingIndexFeeder } from './routing-index.feeder';

const PAGE = 2;

const session = (id: number): RoutingSession => ({
  sessionId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
  accountId: 'MA000000000000000001',
  subaccountId: null,
  virtualNumber: `+1415555${String(id).padStart(4, '0')}`,
  firstParty: '+16285550001',
  secondParty: '+16285550002',
  status: 'active',
  expiresAt: '2099-11-28T13:00:00.000Z',
  createdAt: '2026-11-28T11:00:00.000Z',
  settings: DEFAULT_SESSION_SETTINGS,
});

/**
 * The live sessions in id order, as session-service pages them; null for a Proxy session with no
 * number yet, which a page looks at and does not give.
 */
const LIVE: Array<RoutingSession | null> = [null, null, session(3), session(4), null, session(6), session(7)];

/** Loads the index from a session-service that pages by offset alone (`next` null: an earlier release's) or after an id. */
async function load(by: 'offset' | 'after') {
  const asked: Array<{ after: string | null; offset: number }> = [];
  const rpc = {
    request: jest.fn(
      async (_contract: unknown, req: { after: string | null; offset: number; limit: number }) => {
        asked.push({ after: req.after, offset: req.offset });
        // Never more pages than the store holds: a loop asking again and again fails the load.
        if (asked.length > LIVE.length + 1) throw new Error('asked for the same page again and again');
        const ids = LIVE.map(
          (s, i) => s?.sessionId ?? `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
        );
        const from = by === 'offset' ? req.offset : req.after === null ? 0 : ids.indexOf(req.after) + 1;
        const looked = LIVE.slice(from, from + req.limit);
        return {
          sessions: looked.filter((s): s is RoutingSession => s !== null),
          more: from + req.limit < LIVE.length,
          next: by === 'offset' ? null : (ids[from + looked.length - 1] ?? req.after),
        };
      },
    ),
  } as unknown as RpcClient;
  const index = new RoutingIndex();
  const logger = { info: jest.fn(), warn: jest.fn() } as unknown as Logger;
  const feeder = new RoutingIndexFeeder(
    {} as NatsConnection,
    rpc,
    index,
    { SNAPSHOT_PAGE_SIZE: PAGE } as CallRouterConfig,
    logger,
  );
  await (feeder as unknown as { loadSnapshot(): Promise<void> }).loadSnapshot();
  return { index, asked };
}

describe("the routing index's load, page by page", () => {
  it('loads every live session after the last id of each page, past pages of sessions with no number', async () => {
    const { index, asked } = await load('after');
    expect(index.ready).toBe(true);
    expect(index.size).toBe(4);
    for (const s of LIVE) if (s) expect(index.get(s.sessionId)).toBeDefined();
    expect(asked).toHaveLength(4);
  });

  it("loads every live session from an earlier release's session-service, by offset, past a page of sessions with no number", async () => {
    const { index, asked } = await load('offset');
    expect(index.ready).toBe(true);
    expect(index.size).toBe(4);
    for (const s of LIVE) if (s) expect(index.get(s.sessionId)).toBeDefined();
    // Each page after every session the one before looked at, given or not.
    expect(asked.map((a) => a.offset)).toEqual([0, 2, 4, 6]);
  });
});
