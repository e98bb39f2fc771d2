import { kvEncode } from '@maskline/messaging';
import { kvReplicasForSuite } from '@maskline/testing';
import { CALL_STATE_BUCKET, CallState, type OutboundRecord } from './call-state';

const at = () => new Date().toISOString();
/** Whom a session's call is for: the claim keeps it. */
const whom = (sessionId: string) => ({
  accountId: 'MAAAAAAAAAAAAAAAAAAA',
  sessionId,
  virtualNumber: '+14155550100',
  firstParty: '+16285550001',
});

describe('the claim of a call to a session’s first party (real NATS KV, replicas on their own connections)', () => {
  const replicas = kvReplicasForSuite('call-router');

  async function replica() {
    const { kv } = await replicas.replica();
    return { state: new CallState(kv), kv };
  }

  it('lets exactly one of many racing replicas place the call; the others find it being placed', async () => {
    const all = await Promise.all([1, 2, 3, 4, 5, 6].map(() => replica()));
    const revisions = await Promise.all(all.map((r) => r.state.claimOutbound(whom('race'))));
    expect(revisions.filter((r) => r !== null)).toHaveLength(1);
    const seen = await all[0].state.outbound('race');
    expect(seen?.record).toMatchObject({ state: 'placing', whom: whom('race') });
    // NATS's time of the claim: what a later try reads its age by.
    expect(Math.abs(Date.now() - seen!.storedAt.getTime())).toBeLessThan(60_000);
  });

  it('records how the call went only over the claim as it was read: a try whose claim was taken over changes nothing', async () => {
    const [a, b] = [await replica(), await replica()];
    const mine = await a.state.claimOutbound(whom('taken-over'));
    if (mine === null) throw new Error('not claimed');
    // Another try reads it, finds its outcome unknown, and gives it up over the revision it read.
    const seen = await b.state.outbound('taken-over');
    const givenUp: OutboundRecord = {
      state: 'given-up',
      at: at(),
      reason: 'outcome-unknown',
      announced: true,
    };
    expect(await b.state.settleOutbound('taken-over', givenUp, seen!.revision)).toEqual(expect.any(Number));
    // The first try's late answer neither overwrites the give-up nor gives the claim back.
    expect(await a.state.settleOutbound('taken-over', { state: 'placed', at: at() }, mine)).toBeNull();
    await a.state.releaseOutbound('taken-over', mine);
    expect((await b.state.outbound('taken-over'))?.record).toEqual(givenUp);
    expect(await b.state.claimOutbound(whom('taken-over'))).toBeNull();
  });

  it('gives a claim back for a retry, and records a give-up as the first claim only where none is', async () => {
    const { state } = await replica();
    const mine = await state.claimOutbound(whom('retried'));
    await state.releaseOutbound('retried', mine!);
    expect(await state.outbound('retried')).toBeNull();
    expect(await state.claimOutbound(whom('retried'))).not.toBeNull();

    const refused: OutboundRecord = {
      state: 'given-up',
      at: at(),
      reason: 'no-credentials',
      announced: true,
    };
    expect(await state.settleOutbound('no-claim', refused, null)).toEqual(expect.any(Number));
    expect((await state.outbound('no-claim'))?.record).toEqual(refused);
    // A try that never held a claim cannot overwrite one made meanwhile.
    expect(await state.settleOutbound('retried', refused, null)).toBeNull();
    expect((await state.outbound('retried'))?.record.state).toBe('placing');
  });

  it('reads a claim of the release before (a time, no state) as a call placed', async () => {
    const { state, kv } = await replica();
    await state.outbound('warm-up');
    await (await kv.bucket(CALL_STATE_BUCKET)).put('o.legacy', kvEncode(at()));
    expect((await state.outbound('legacy'))?.record.state).toBe('placed');
    expect(await state.claimOutbound(whom('legacy'))).toBeNull();
  });
});

describe('single-party bindings (real NATS KV, replicas on their own connections)', () => {
  const replicas = kvReplicasForSuite('call-router');

  it('tells another replica whom a session was bound to, and that the number was bound to it, by number and whom only', async () => {
    const [a, b] = [
      new CallState((await replicas.replica()).kv),
      new CallState((await replicas.replica()).kv),
    ];
    const [vn, otherVn, caller, stranger] = ['+14155550100', '+14155550101', '+16285550002', '+16285550003'];
    expect(await b.boundLately(vn, caller)).toBe(false);
    await a.bind(vn, 'single-1', caller);
    expect(await b.boundTo('single-1')).toBe(caller);
    expect(await b.boundLately(vn, caller)).toBe(true);
    expect(await b.boundLately(vn, stranger)).toBe(false);
    expect(await b.boundLately(otherVn, caller)).toBe(false);
    // Bound to someone else since: the earlier one is still known as bound lately (the guard errs on
    // hanging up a call Maskline would not place, never on dialling on its own leg).
    await a.bind(vn, 'single-1', stranger);
    expect(await b.boundTo('single-1')).toBe(stranger);
    expect(await b.boundLately(vn, caller)).toBe(true);
  });
});
