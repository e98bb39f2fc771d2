import { randomUUID } from 'node:crypto';
import { kvReplicasForSuite } from '@maskline/testing';
import { CreationVerdicts } from './creation-verdicts';

describe('creation verdicts across replicas (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  /** One session-service process's verdicts. */
  async function replica(): Promise<CreationVerdicts> {
    const { kv } = await replicas.replica();
    return new CreationVerdicts(kv);
  }

  it('racing creations and reapers of one session: whichever asks first decides, for every one of them', async () => {
    const racing = await Promise.all(Array.from({ length: 6 }, () => replica()));
    const sessionId = randomUUID();
    const verdicts = await Promise.all(
      racing.map((r, i) => r.decide(sessionId, i % 2 === 0 ? 'announced' : 'failed')),
    );
    expect(new Set(verdicts).size).toBe(1);
    // Asked again, by either side, long after: the same.
    const [late] = [await replica()];
    expect(await late.decide(sessionId, 'announced')).toBe(verdicts[0]);
    expect(await late.decide(sessionId, 'failed')).toBe(verdicts[0]);
  });

  it('a creation that announced first keeps its session from the reaper; a reaper first fails the creation', async () => {
    const [creation, reaper] = [await replica(), await replica()];
    const announced = randomUUID();
    expect(await creation.decide(announced, 'announced')).toBe('announced');
    expect(await reaper.decide(announced, 'failed')).toBe('announced');
    const failed = randomUUID();
    expect(await reaper.decide(failed, 'failed')).toBe('failed');
    expect(await creation.decide(failed, 'announced')).toBe('failed');
  });
});
