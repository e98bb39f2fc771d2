import type { Logger } from 'pino';
import { CodedError } from '@maskline/contracts';
import type { SessionAnnouncer } from './session-announcer';
import type { SessionRepository } from './session.repository';
import type { SessionDocument } from './session.schema';
import type { SessionWriteTurns } from './session-write-turns';
import { UnannouncedUpdateSweeper } from './unannounced-update-sweeper';
import type { UnannouncedUpdates } from './unannounced-updates.repository';

const changedAt = new Date('2026-12-03T08:00:00Z');
const landedAt = new Date('2026-12-03T08:00:05Z');
const session = (id: string, status: 'active' | 'expired') =>
  ({
    _id: id,
    accountId: 'MA000000000000000001',
    subaccountId: null,
    firstParty: '+14155550101',
    secondParty: '+14155550102',
    virtualNumber: '+14155550199',
    allocationId: `alloc-${id}`,
    status,
    settings: {},
    createdAt: new Date('2026-12-03T07:00:00Z'),
    modifiedAt: changedAt,
    expiresAt: new Date('2026-12-03T09:00:00Z'),
  }) as unknown as SessionDocument;

/** The sweeper over notes of live `live`, ended `ended` and gone `gone`; what it did. */
function sweeper(
  options: {
    streamAwayFor?: string;
    refusedFor?: string;
    /** `live` is a Proxy session with one participant; its fence finds a second one landed since. */
    proxyOneParticipant?: { landedSince: boolean };
    /** `live` is a Plivo single-party session (no second party, no Proxy facts). */
    plivoSingleParty?: boolean;
  } = {},
) {
  const did: string[] = [];
  const stored: Record<string, SessionDocument> = {
    live: session('live', 'active'),
    ended: session('ended', 'expired'),
  };
  if (options.plivoSingleParty) stored.live = { ...stored.live, secondParty: null } as SessionDocument;
  if (options.proxyOneParticipant) {
    stored.live = { ...stored.live, proxy: {}, secondParty: null, joinFence: 'f0' } as SessionDocument;
  }
  const unannounced = {
    pendingSystemWide: async () => ['live', 'ended', 'gone'].map((_id) => ({ _id })),
    forgetSystemWide: async (id: string) => void did.push(`forget ${id}`),
  } as unknown as UnannouncedUpdates;
  const sessions = {
    getLiveSystemWide: async (id: string) => {
      did.push(`read ${id}`);
      return stored[id] ?? null;
    },
    fenceSecondJoin: async (_scope: unknown, id: string, fence: string | null) => {
      did.push(`fence ${id} ${fence}`);
      if (!options.proxyOneParticipant?.landedSince) return true;
      stored[id] = { ...stored[id], secondParty: '+14155550103', modifiedAt: landedAt } as SessionDocument;
      return false;
    },
  } as unknown as SessionRepository;
  const announcer = {
    updated: async (doc: SessionDocument, at: Date) => {
      if (doc._id === options.streamAwayFor) throw new Error('event stream is not available');
      if (doc._id === options.refusedFor) throw CodedError.validation('routing', 'not a routing view');
      did.push(`announce ${doc._id} at ${at.toISOString()}`);
    },
  } as unknown as SessionAnnouncer;
  const turns = {
    during: async (_account: string, id: string, change: () => Promise<unknown>) => {
      did.push(`turn ${id}`);
      return change();
    },
  } as unknown as SessionWriteTurns;
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  } as unknown as Logger;
  const subject = new UnannouncedUpdateSweeper(unannounced, sessions, announcer, turns, logger);
  const pass = () => (subject as unknown as { runOnce(): Promise<void> }).runOnce();
  return { pass, did };
}

describe('the unannounced-update sweep', () => {
  it('announces a live session as stored, under its change time, then forgets the note; an ended or gone one is forgotten unannounced', async () => {
    const { pass, did } = sweeper();
    await pass();
    expect(did).toEqual([
      'turn live',
      'read live',
      `announce live at ${changedAt.toISOString()}`,
      'forget live',
      'turn ended',
      'read ended',
      'forget ended',
      'turn gone',
      'read gone',
      'forget gone',
    ]);
  });

  it('fences a Proxy session’s second participant’s write before it forgets the note (none lands after), and announces one that landed before the fence', async () => {
    const fenced = sweeper({ proxyOneParticipant: { landedSince: false } });
    await fenced.pass();
    expect(fenced.did.slice(0, 5)).toEqual([
      'turn live',
      'read live',
      'fence live f0',
      `announce live at ${changedAt.toISOString()}`,
      'forget live',
    ]);
    // A Plivo single-party session has no participant write to fence: announced as it is.
    const plivo = sweeper({ plivoSingleParty: true });
    await plivo.pass();
    expect(plivo.did.slice(0, 4)).toEqual([
      'turn live',
      'read live',
      `announce live at ${changedAt.toISOString()}`,
      'forget live',
    ]);
    const landed = sweeper({ proxyOneParticipant: { landedSince: true } });
    await landed.pass();
    expect(landed.did.slice(0, 6)).toEqual([
      'turn live',
      'read live',
      'fence live f0',
      'read live',
      `announce live at ${landedAt.toISOString()}`,
      'forget live',
    ]);
  });

  it('keeps a note whose announcement fails (the stream still away) for the next pass, and goes on with the others', async () => {
    const { pass, did } = sweeper({ streamAwayFor: 'live' });
    await pass();
    expect(did.filter((d) => !d.startsWith('read'))).toEqual([
      'turn live',
      'turn ended',
      'forget ended',
      'turn gone',
      'forget gone',
    ]);
  });

  it('forgets a note whose announcement is refused for good (it would fail every pass, on every replica)', async () => {
    const { pass, did } = sweeper({ refusedFor: 'live' });
    await pass();
    expect(did.filter((d) => !d.startsWith('read'))).toEqual([
      'turn live',
      'forget live',
      'turn ended',
      'forget ended',
      'turn gone',
      'forget gone',
    ]);
  });
});
