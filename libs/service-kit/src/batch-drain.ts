/**
 * Runs `step` (which handles at most `batch` items and says how many it handled) until a batch
 * comes back short, at most `maxBatches` times: a sweep that runs seldom still keeps up with what
 * became due since its last run, and a backlog drains over a few runs, not in one that never ends.
 * Returns how many items were handled.
 */
export async function drainInBatches(
  step: () => Promise<number>,
  batch: number,
  maxBatches: number,
): Promise<number> {
  let total = 0;
  for (let round = 0; round < maxBatches; round++) {
    const handled = await step();
    total += handled;
    if (handled < batch) break;
  }
  return total;
}
