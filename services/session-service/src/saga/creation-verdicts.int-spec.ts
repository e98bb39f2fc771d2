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
    const answers = await Promise.all(
      racing.map((r, i) => r.decide(sessionId, i % 2 === 0 ? 'announced' : 'failed')),
    );
    expect(new Set(answers.map((a) => a.verdict)).size).toBe(1);
    expect(answers.filter((a) => a.taken)).toHaveLength(1);
    // Asked again, by either side, later: the same, taken by none of them.
    const late = await replica();
    const verdict = answers[0]!.verdict;
    expect(await late.decide(sessionId, 'announced')).toEqual({ verdict, taken: false });
    expect(await late.decide(sessionId, 'failed')).toEqual({ verdict, taken: false });
  });

  it('a creation that announced first keeps its session from the reaper; a reaper first fails the creation', async () => {
    const [creation, reaper] = [await replica(), await replica()];
    const announced = randomUUID();
    expect(await creation.decide(announced, 'announced')).toEqual({ verdict: 'announced', taken: true });
    expect(await reaper.decide(announced, 'failed')).toEqual({ verdict: 'announced', taken: false });
    const failed = randomUUID();
    expect(await reaper.decide(failed, 'failed')).toEqual({ verdict: 'failed', taken: true });
    expect(await creation.decide(failed, 'announced')).toEqual({ verdict: 'failed', taken: false });
  });
});
