import { ErrorCodes } from '@maskline/contracts';
import {
  UNAUTHENTICATED_LOOKUPS_IN_FLIGHT,
  UNAUTHENTICATED_LOOKUPS_WAITING,
  UnauthenticatedLookups,
} from './unauthenticated-lookups';

describe('reads for requests not yet authenticated', () => {
  it('run a bounded number at once; the rest wait their turn, and past the waiting bound are refused at once, retryable, unread', async () => {
    const lookups = new UnauthenticatedLookups('number', UnauthenticatedLookups.slots());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const read = async () => {
      reads++;
      await held;
      return 'found';
    };
    const admitted = Array.from(
      { length: UNAUTHENTICATED_LOOKUPS_IN_FLIGHT + UNAUTHENTICATED_LOOKUPS_WAITING },
      () => lookups.run(read),
    );
    expect(reads).toBe(UNAUTHENTICATED_LOOKUPS_IN_FLIGHT);
    const refused = await lookups.run(read).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE, retryable: true });
    expect((refused as Error).message).toBe('too many number lookups at once; try again');
    expect(reads).toBe(UNAUTHENTICATED_LOOKUPS_IN_FLIGHT);
    release();
    await expect(Promise.all(admitted)).resolves.toEqual(admitted.map(() => 'found'));
    expect(reads).toBe(admitted.length);
  });

  it('share one bound in a process, whatever they look up', async () => {
    const [numbers, authIds] = [new UnauthenticatedLookups('number'), new UnauthenticatedLookups('Auth ID')];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const read = async () => {
      reads++;
      await held;
    };
    const running = Array.from({ length: UNAUTHENTICATED_LOOKUPS_IN_FLIGHT }, (_, i) =>
      (i % 2 ? numbers : authIds).run(read),
    );
    const waiting = [numbers.run(read), authIds.run(read)];
    expect(reads).toBe(UNAUTHENTICATED_LOOKUPS_IN_FLIGHT);
    release();
    await Promise.all([...running, ...waiting]);
    expect(reads).toBe(UNAUTHENTICATED_LOOKUPS_IN_FLIGHT + 2);
  });
});
