import { ErrorCodes } from '@maskline/contracts';
import {
  UNAUTHENTICATED_LOOKUPS_IN_FLIGHT,
  UNAUTHENTICATED_LOOKUPS_WAITING,
  UnauthenticatedLookups,
} from './unauthenticated-lookups';

describe('reads for requests not yet authenticated', () => {
  it('run a bounded number at once; the rest wait their turn, and past the waiting bound are refused at once, retryable, unread', async () => {
    const lookups = new UnauthenticatedLookups('number');
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

  it('of one kind hold back none of another: a flood of made-up numbers leaves Auth IDs their own turns', async () => {
    const [numbers, authIds] = [new UnauthenticatedLookups('number'), new UnauthenticatedLookups('Auth ID')];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const flood = Array.from(
      { length: UNAUTHENTICATED_LOOKUPS_IN_FLIGHT + UNAUTHENTICATED_LOOKUPS_WAITING },
      () => numbers.run(() => held),
    );
    await expect(numbers.run(async () => 'read')).rejects.toMatchObject({ retryable: true });
    await expect(authIds.run(async () => 'read')).resolves.toBe('read');
    release();
    await Promise.all(flood);
  });
});
