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

/**
 * Records per statement of a sweep that goes by ids (the catch-up of ended sessions left among the
 * live ones, tombstones, the call steps and Proxy places of deleted sessions): on FerretDB each
 * statement is one scan of its collection however many records it covers, so the batches are large.
 * Purges by time go a range at a time instead (`SystemWideQueries.deleteDue`).
 */
export const SWEEP_BATCH = 1000;
/** A sweep's run drains up to this many batches of each kind: 20,000 records. */
export const SWEEP_MAX_BATCHES = 20;
