import type { AllocationRepository } from './allocation.repository';
import { HoldMaintenance, MARKER_SWEEP_FOR_MS } from './hold-maintenance';
import type { HoldRepository } from './hold.repository';
import type { HoldStore } from './hold-store.port';

/** Maintenance over a store whose marker sweep answers `slices` in turn, on a clock the test moves. */
function maintenance(slices: Array<{ removed: number; atEnd: boolean }>) {
  let now = 0;
  const asked: number[] = [];
  let position = 0;
  const store = {
    removeLeftMarkers: async (from: number) => {
      asked.push(from);
      const slice = slices.shift() ?? { removed: 0, atEnd: true };
      position = from + 10;
      return { ...slice, next: position };
    },
  } as unknown as HoldStore;
  const subject = new HoldMaintenance({} as HoldRepository, {} as AllocationRepository, store, () => now);
  return { subject, asked, advance: (ms: number) => (now += ms) };
}

describe('the sweep for an earlier release’s pair-hint markers', () => {
  it('goes on from where the last slice stopped', async () => {
    const { subject, asked } = maintenance([
      { removed: 5, atEnd: false },
      { removed: 2, atEnd: true },
    ]);
    await expect(subject.removeLeftPairMarkers(10)).resolves.toBe(5);
    await expect(subject.removeLeftPairMarkers(10)).resolves.toBe(2);
    expect(asked).toEqual([0, 10]);
  });

  it('keeps looking through a rollout, and stops once a pass found none an hour after it last found one', async () => {
    const { subject, asked, advance } = maintenance([
      { removed: 3, atEnd: true },
      { removed: 0, atEnd: true },
      // A replica of the earlier release wrote one more.
      { removed: 1, atEnd: true },
    ]);
    await subject.removeLeftPairMarkers(10);
    // An empty pass within the hour: it goes on looking.
    advance(MARKER_SWEEP_FOR_MS / 2);
    await subject.removeLeftPairMarkers(10);
    // The old release's replicas ran on into the second half hour.
    advance(MARKER_SWEEP_FOR_MS / 2);
    await expect(subject.removeLeftPairMarkers(10)).resolves.toBe(1);
    // An hour after the process started, but not after that marker: it goes on looking.
    advance(MARKER_SWEEP_FOR_MS / 2);
    await expect(subject.removeLeftPairMarkers(10)).resolves.toBe(0);
    advance(MARKER_SWEEP_FOR_MS / 2);
    // An hour after the last marker: it looks once more, and finds none.
    await expect(subject.removeLeftPairMarkers(10)).resolves.toBe(0);
    expect(asked).toHaveLength(5);
    // Done, without asking NATS again.
    await expect(subject.removeLeftPairMarkers(10)).resolves.toBe(0);
    expect(asked).toHaveLength(5);
  });
});

describe('an account’s live holds', () => {
  it('are read once at a time however many ask at once (the API’s utilization, Proxy PhoneNumbers), and afresh by a request that comes after', async () => {
    const reads: string[] = [];
    const finish: Array<() => void> = [];
    const holds = {
      liveOfAccount: (accountId: string) => {
        reads.push(accountId);
        const hold = {
          accountId,
          virtualNumber: '+14155550100',
          party: '+14155550111',
          allocationId: `A${reads.length}`,
        };
        return new Promise((resolve) => finish.push(() => resolve([{ ...hold, blockedUntil: null }])));
      },
    } as unknown as HoldRepository;
    const subject = new HoldMaintenance(holds, {} as AllocationRepository, {} as HoldStore, () => 0);
    const together = Array.from({ length: 50 }, () => subject.liveHolds('MA1'));
    const another = subject.liveHolds('MA2');
    expect(reads).toEqual(['MA1', 'MA2']);
    finish.splice(0).forEach((f) => f());
    const answers = await Promise.all(together);
    expect(new Set(answers.map((a) => a[0]?.allocationId))).toEqual(new Set(['A1']));
    expect((await another)[0]?.accountId).toBe('MA2');
    // Asked again once those are answered: read again, so a session made since is counted.
    const later = subject.liveHolds('MA1');
    expect(reads).toEqual(['MA1', 'MA2', 'MA1']);
    finish.splice(0).forEach((f) => f());
    expect((await later)[0]?.allocationId).toBe('A3');
  });
});
