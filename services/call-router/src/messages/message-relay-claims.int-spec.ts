import { kvReplicasForSuite } from '@maskline/testing';
import {
  FALLBACK_GATE_KEYS_MAX,
  FallbackGate,
  MESSAGE_FALLBACK_BUCKET,
  MessageRelayClaims,
  type RelayPlan,
} from './message-relay-claims';

const PLAN: RelayPlan = { kind: 'relay', sessionId: 'S1', to: '+14155550122', direction: 'first-to-second' };

describe('message relay claims (real NATS KV, replicas on their own connections)', () => {
  const replicas = kvReplicasForSuite('call-router');

  async function replica() {
    const { kv } = await replicas.replica();
    return { claims: new MessageRelayClaims(kv), fallbacks: new FallbackGate(kv) };
  }

  it('lets exactly one of many racing replicas send a message', async () => {
    const replicas = await Promise.all([1, 2, 3, 4, 5, 6].map(() => replica()));
    const results = await Promise.all(
      replicas.map((r) => r.claims.claim('plivo|+14155550100|race', 10_000, PLAN)),
    );
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'busy')).toHaveLength(5);
  });

  it('counts real sends across give-backs, keeps the first plan, and a dead holder’s send counts too', async () => {
    const { claims } = await replica();
    const key = 'twilio|+14155550100|sends';
    const now = Date.now();
    const first = await claims.claim(key, 10_000, PLAN, now);
    expect(first).toMatchObject({ kind: 'claimed', sends: 0, plan: PLAN });
    if (first.kind !== 'claimed') throw new Error('not claimed');
    expect(await claims.giveBack(key, { ...first, sends: 1 })).toBe(true);
    // A retry that would decide otherwise (the session ended meanwhile) carries out the first plan.
    const second = await claims.claim(key, 10_000, { kind: 'fallback' }, now);
    expect(second).toMatchObject({ kind: 'claimed', sends: 1, plan: PLAN });
    // This holder dies mid-send: within its lease nobody else sends; after it, the send it may have made counts.
    expect((await claims.claim(key, 10_000, PLAN, now + 5_000)).kind).toBe('busy');
    const third = await claims.claim(key, 10_000, PLAN, now + 10_001);
    expect(third).toMatchObject({ kind: 'claimed', sends: 2 });
    // The holder whose lease lapsed wakes and gives back: it cannot undo the take-over.
    if (second.kind !== 'claimed') throw new Error('not claimed');
    expect(await claims.giveBack(key, { ...second, sends: 9 })).toBe(false);
    expect(await claims.peek(key)).toMatchObject({ state: 'sending', sends: 2 });
  });

  it('parks a message whose account is held back under its plan, once: the next look sends it under that plan', async () => {
    const { claims } = await replica();
    const key = 'plivo|+14155550100|parked';
    expect(await claims.park(key, PLAN)).toBe(true);
    expect(await claims.peek(key)).toEqual({ state: 'waiting', sends: 0, plan: PLAN });
    // Another copy of the event finds it parked (or claimed): it goes the usual way, and the plan stands.
    expect(await claims.park(key, { kind: 'fallback' })).toBe(false);
    expect(await claims.claim(key, 10_000, { kind: 'fallback' })).toMatchObject({
      kind: 'claimed',
      sends: 0,
      plan: PLAN,
    });
    expect(await claims.park(key, PLAN)).toBe(false);
    expect(await claims.peek(key)).toMatchObject({ state: 'sending', sends: 0, plan: PLAN });
  });

  it('keeps an announcement until it is published, then only that the message was dealt with', async () => {
    const [a, b] = [await replica(), await replica()];
    const key = 'plivo|+14155550100|announce';
    expect((await a.claims.claim(key, 10_000, PLAN)).kind).toBe('claimed');
    const announce = { event: 'relayed' as const, payload: { messageId: 'M1', sessionId: 'S1' } };
    await a.claims.finish(key, announce);
    // The publish was lost: a redelivery on another replica finds it still to announce, and sends nothing.
    expect(await b.claims.claim(key, 10_000, PLAN)).toEqual({ kind: 'done', announce });
    await b.claims.announced(key);
    expect(await a.claims.peek(key)).toEqual({ state: 'done', announce: null });
  });

  it('answers one message per sender and number with the fallback within the interval; its own retry goes through', async () => {
    const { fallbacks } = await replica();
    expect(await fallbacks.mayAnswer(60_000, '+14155550100', '+14155550111', 'm1')).toBe(true);
    expect(await fallbacks.mayAnswer(60_000, '+14155550100', '+14155550111', 'm1')).toBe(true);
    expect(await fallbacks.mayAnswer(60_000, '+14155550100', '+14155550111', 'm2')).toBe(false);
    expect(await fallbacks.mayAnswer(60_000, '+14155550100', '+14155550122', 'm3')).toBe(true);
  });

  it('remembers a bounded number of answered senders, forgetting the oldest first: made-up senders cannot grow NATS’s memory without end', async () => {
    const { kv } = await replicas.replica();
    expect(await new FallbackGate(kv).mayAnswer(60_000, '+14155550100', '+14155550133', 'm4')).toBe(true);
    const { config } = (await (await kv.bucket(MESSAGE_FALLBACK_BUCKET)).status()).streamInfo;
    expect(config).toMatchObject({ max_msgs: FALLBACK_GATE_KEYS_MAX, discard: 'old' });
  });
});
