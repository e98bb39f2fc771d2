import pino from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { RetryLater } from '@maskline/messaging';
import type { AutoCreate, OutsideContact, ProxyOutOfSession } from '../proxy/proxy-out-of-session';
import type { PendingAutoCreate, PendingAutoCreates } from './pending-auto-creates';
import { OUTSIDE_TEXT } from '../proxy/outside-contact.test-fixture';
import { OutOfSessionTexts } from './out-of-session-texts';

const CONTACT = OUTSIDE_TEXT;
const KEY = 'twilio|+14155550199|SM00000000000000000000000000000001';
const CREATE: AutoCreate = { participantIdentifier: '+14155550122', uniqueName: 'listing-42' };
const SESSION = { kind: 'session' as const, sessionId: 'sess-1', to: CREATE.participantIdentifier };

/**
 * The Service's callback answers an auto-create; session-service answers each create as `creates`
 * says in turn (an Error: unanswered or failed; null: refused; otherwise made). Kept auto-creates
 * live in a map, as the KV bucket keeps them.
 */
function texts(creates: Array<Error | null | 'made' | 'hang'>) {
  const asked = { callbacks: 0, creates: [] as AutoCreate[], timeouts: [] as Array<number | undefined> };
  /** Creates that hang (session-service not answering yet), in the order they were asked. */
  const hanging: Array<{ contact: OutsideContact; answer: (made: boolean) => void }> = [];
  let started = () => {};
  const proxy = {
    callback: async () => {
      asked.callbacks++;
      return { kind: 'auto-create', create: CREATE };
    },
    autoCreate: async (contact: OutsideContact, create: AutoCreate, options: { timeoutMs?: number }) => {
      asked.timeouts.push(options.timeoutMs);
      asked.creates.push(create);
      const next = creates.shift();
      if (next === 'hang') {
        const made = new Promise<boolean>((answer) => hanging.push({ contact, answer }));
        started();
        return (await made) ? SESSION : null;
      }
      if (next instanceof Error) throw next;
      return next === 'made' ? SESSION : null;
    },
  } as unknown as ProxyOutOfSession;
  const kept = new Map<string, PendingAutoCreate>();
  const pendings = {
    of: async (key: string) => kept.get(key),
    keep: async (key: string, p: PendingAutoCreate) => void kept.set(key, structuredClone(p)),
    forget: async (key: string) => void kept.delete(key),
  } as unknown as PendingAutoCreates;
  const subject = new OutOfSessionTexts(proxy, pendings, pino({ level: 'silent' }));
  /** One delivery of the text, as the relay consumer makes it: the answer, or what it threw. */
  const deliver = async (deliveryCount: number, contact = CONTACT, key = KEY) => {
    const pending = await subject.pending(key, deliveryCount);
    return subject.ask(contact, key, pending).catch((err: unknown) => err);
  };
  /** Resolves once `count` creates hang. */
  const hangingCount = (count: number) =>
    new Promise<void>((resolve) => {
      started = () => hanging.length >= count && resolve();
      started();
    });
  return { asked, kept, deliver, hanging, hangingCount };
}

const unanswered = () => new CodedError(ErrorCodes.RPC_TIMEOUT, 'session-service did not answer in time');

describe('a stranger’s text whose auto-create goes unanswered', () => {
  it('posts the Service’s callback once, and makes the same Session again on later deliveries until made', async () => {
    const { asked, kept, deliver } = texts([unanswered(), unanswered(), 'made']);
    expect(await deliver(1)).toBeInstanceOf(RetryLater);
    expect(kept.get(KEY)).toEqual({ create: CREATE, serviceSid: CONTACT.owner.serviceSid, tries: 1 });
    expect(await deliver(2)).toBeInstanceOf(RetryLater);
    expect(await deliver(3)).toEqual(SESSION);
    expect(asked.callbacks).toBe(1);
    expect(asked.creates).toEqual([CREATE, CREATE, CREATE]);
    // Each waits as long as the gateway waits for a create: a try still running is not raced.
    expect(asked.timeouts).toEqual([10_000, 10_000, 10_000]);
    // Nothing of the sender's Session stays behind once it is made.
    expect(kept.size).toBe(0);
  });

  it('is asked again whatever the failure’s code, even one a handler would end the text on', async () => {
    const { deliver } = texts([new CodedError(ErrorCodes.INTERNAL, 'unexpected'), 'made']);
    const first = await deliver(1);
    expect(first).toBeInstanceOf(RetryLater);
    expect((first as RetryLater).reason).toContain(ErrorCodes.INTERNAL);
    expect(await deliver(2)).toEqual(SESSION);
  });

  it('waits longer each time, up to a minute', async () => {
    const { deliver } = texts(Array.from({ length: 7 }, unanswered));
    const delays: number[] = [];
    for (let d = 1; d <= 7; d++) delays.push(((await deliver(d)) as RetryLater).delayMs);
    expect(delays[0]).toBeLessThanOrEqual(1000);
    expect(delays[6]).toBeGreaterThanOrEqual(30_000);
    expect(delays[6]).toBeLessThanOrEqual(60_000);
  });

  it('gives up after eight creates: the number’s fallback answers (null), and nothing is kept', async () => {
    const { asked, kept, deliver } = texts(Array.from({ length: 8 }, unanswered));
    for (let d = 1; d <= 7; d++) expect(await deliver(d)).toBeInstanceOf(RetryLater);
    expect(await deliver(8)).toBeNull();
    expect(asked.callbacks).toBe(1);
    expect(asked.creates).toHaveLength(8);
    expect(kept.size).toBe(0);
  });

  it('refused on a later delivery (the name taken meanwhile): no Session, and nothing is kept', async () => {
    const { kept, deliver } = texts([unanswered(), null]);
    expect(await deliver(1)).toBeInstanceOf(RetryLater);
    expect(await deliver(2)).toBeNull();
    expect(kept.size).toBe(0);
  });

  it('counts tries per message: a text first delivered late (after other failures) still gets eight', async () => {
    const { asked, deliver } = texts([unanswered(), 'made']);
    // Its first deliveries failed before the callback (a read that timed out): nothing was kept.
    expect(await deliver(12)).toBeInstanceOf(RetryLater);
    expect(await deliver(13)).toEqual(SESSION);
    expect(asked.callbacks).toBe(1);
  });

  it('asks the Service the number belongs to now when it moved meanwhile: the kept answer was another Service’s', async () => {
    const { asked, kept, deliver } = texts([unanswered(), 'made']);
    expect(await deliver(1)).toBeInstanceOf(RetryLater);
    const moved = {
      ...CONTACT,
      owner: { ...CONTACT.owner, serviceSid: 'KS00000000000000000000000000000002' },
    };
    expect(await deliver(2, moved)).toEqual(SESSION);
    expect(asked.callbacks).toBe(2);
    expect(kept.size).toBe(0);
  });

  it('keeps the answer before the Session is made: a try that never ends (a crash) is made again without asking the Service', async () => {
    const { asked, kept, deliver, hangingCount } = texts(['hang', 'made']);
    void deliver(1);
    await hangingCount(1);
    expect(kept.get(KEY)).toEqual({ create: CREATE, serviceSid: CONTACT.owner.serviceSid, tries: 0 });
    expect(await deliver(2)).toEqual(SESSION);
    expect(asked.callbacks).toBe(1);
    expect(kept.size).toBe(0);
  });

  it('runs at most 4 of one account’s auto-creates at once on a replica: its next text waits, another account’s goes on', async () => {
    const { asked, deliver, hanging, hangingCount } = texts(['hang', 'hang', 'hang', 'hang', 'made', 'made']);
    const mine = Array.from({ length: 4 }, (_, i) => deliver(1, CONTACT, `${KEY}-${i}`));
    await hangingCount(4);
    const waiting = await deliver(1, CONTACT, `${KEY}-4`);
    expect(waiting).toBeInstanceOf(RetryLater);
    expect((waiting as RetryLater).reason).toContain('busy');
    expect(asked.creates).toHaveLength(4);
    const other = { ...CONTACT, owner: { ...CONTACT.owner, accountId: 'MA000000000000000002' } };
    expect(await deliver(1, other, `${KEY}-other`)).toEqual(SESSION);
    // One of the account's creates answers: its waiting text goes through on its next delivery.
    hanging[0].answer(true);
    await expect(mine[0]).resolves.toEqual(SESSION);
    expect(await deliver(2, CONTACT, `${KEY}-4`)).toEqual(SESSION);
    for (const h of hanging.slice(1)) h.answer(false);
    await Promise.all(mine);
  });
});
