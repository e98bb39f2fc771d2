import { CodedError, ErrorCodes } from '@maskline/contracts';
import { STEP_RETRY_PAUSES_MS, STEP_RETRY_WITHIN_MS, withStepRetry } from './step-retry';

const coded = (code: string) => new CodedError(code as never, code);

/** A step that answers each of `answers` in turn, with a clock the pauses move. */
function world(answers: Array<Error | string>, startAt = 0) {
  let now = startAt;
  const pauses: number[] = [];
  let calls = 0;
  const step = async () => {
    const next = answers[Math.min(calls++, answers.length - 1)];
    if (next instanceof Error) throw next;
    return next;
  };
  const run = () =>
    withStepRetry(
      step,
      0,
      () => now,
      async (ms) => {
        pauses.push(ms);
        now += ms;
      },
    );
  return { run, pauses, calls: () => calls };
}

describe('a saga step asked again when it failed for a moment', () => {
  it('asks again after each pause while the answer is "unavailable", and returns the first success', async () => {
    const w = world([coded(ErrorCodes.DEPENDENCY_UNAVAILABLE), coded(ErrorCodes.RPC_UNAVAILABLE), 'made']);
    await expect(w.run()).resolves.toBe('made');
    expect(w.pauses).toEqual(STEP_RETRY_PAUSES_MS);
  });

  it('does not ask again after a refusal, a timeout or an open breaker', async () => {
    for (const code of [
      ErrorCodes.VALIDATION,
      ErrorCodes.RPC_TIMEOUT,
      ErrorCodes.CIRCUIT_OPEN,
      ErrorCodes.INTERNAL,
    ]) {
      const w = world([coded(code), 'made']);
      await expect(w.run()).rejects.toMatchObject({ code });
      expect(w.calls()).toBe(1);
    }
  });

  it('gives up after its last pause, and when a pause would take the creation past its time', async () => {
    const always = world([coded(ErrorCodes.DEPENDENCY_UNAVAILABLE)]);
    await expect(always.run()).rejects.toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE });
    expect(always.calls()).toBe(STEP_RETRY_PAUSES_MS.length + 1);

    const late = world([coded(ErrorCodes.DEPENDENCY_UNAVAILABLE), 'made'], STEP_RETRY_WITHIN_MS - 100);
    await expect(late.run()).rejects.toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE });
    expect(late.calls()).toBe(1);
  });

  it('an attempt that may have happened is what fails the step, even when a later one says nobody listened', async () => {
    const w = world([coded(ErrorCodes.DEPENDENCY_UNAVAILABLE), coded(ErrorCodes.RPC_UNAVAILABLE)]);
    await expect(w.run()).rejects.toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE });
  });
});
