import { kvEncode } from '@maskline/messaging';
import { kvReplicasForSuite } from '@maskline/testing';
import { CALL_STATE_BUCKET, CallState } from './call-state';

describe('the claim of a call to a session’s first party (real NATS KV, replicas on their own connections)', () => {
  const replicas = kvReplicasForSuite('call-router');

  async function replica() {
    const { kv } = await replicas.replica();
    return { state: new CallState(kv), kv };
  }

  it('lets exactly one of many racing replicas place the call; the others see it being placed', async () => {
    const all = await Promise.all([1, 2, 3, 4, 5, 6].map(() => replica()));
    const claims = await Promise.all(all.map((r) => r.state.claimOutbound('race')));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    expect(claims.filter((c) => !c.claimed)).toEqual(Array(5).fill({ claimed: false, state: 'placing' }));
  });

  it('tells a later copy how the call went: placed, given up, or given back for a retry', async () => {
    const [a, b] = [await replica(), await replica()];
    expect(await a.state.claimOutbound('placed')).toEqual({ claimed: true });
    await a.state.settleOutbound('placed', 'placed');
    expect(await b.state.claimOutbound('placed')).toEqual({ claimed: false, state: 'placed' });

    expect(await a.state.claimOutbound('given-up')).toEqual({ claimed: true });
    await a.state.settleOutbound('given-up', 'given-up');
    expect(await b.state.claimOutbound('given-up')).toEqual({ claimed: false, state: 'given-up' });

    // The provider did not take it (5xx): given back, the next try places it.
    expect(await a.state.claimOutbound('retried')).toEqual({ claimed: true });
    await a.state.releaseOutbound('retried');
    expect(await b.state.claimOutbound('retried')).toEqual({ claimed: true });
  });

  it('reads a claim of the release before (a time, no state) as a call placed', async () => {
    const { state, kv } = await replica();
    await state.claimOutbound('warm-up');
    await (await kv.bucket(CALL_STATE_BUCKET)).put('o.legacy', kvEncode(new Date().toISOString()));
    expect(await state.claimOutbound('legacy')).toEqual({ claimed: false, state: 'placed' });
  });
});
