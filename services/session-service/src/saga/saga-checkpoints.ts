/**
 * Where the creation saga stands: after it holds a number, after it holds PINs, before it stores the
 * session, after it stored it, after it took its verdict, after it announced it.
 */
export type SagaCheckpoint =
  | 'after-allocation'
  | 'after-pins'
  | 'before-store'
  | 'after-store'
  | 'after-verdict'
  | 'after-announce';

/**
 * Told as the creation saga passes each checkpoint. In production nothing listens; the resilience
 * tests put faults there (`testing/fault-injecting-checkpoints.ts`).
 */
export interface SagaCheckpoints {
  reached(point: SagaCheckpoint): void;
}

export const SAGA_CHECKPOINTS = Symbol('SAGA_CHECKPOINTS');

export const noCheckpoints: SagaCheckpoints = { reached: () => undefined };
