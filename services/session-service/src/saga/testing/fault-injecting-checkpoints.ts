import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import type { SessionServiceConfig } from '../../config/session-service.config';
import type { SagaCheckpoint, SagaCheckpoints } from '../saga-checkpoints';

const FAULT_AT: Record<Exclude<SessionServiceConfig['SAGA_FAULT'], 'none'>, SagaCheckpoint> = {
  'crash-after-allocation': 'after-allocation',
  'crash-after-pins': 'after-pins',
  'fail-before-store': 'before-store',
  'crash-after-store': 'after-store',
  'crash-after-verdict': 'after-verdict',
  'crash-after-announce': 'after-announce',
};

/**
 * Test only (SAGA_FAULT; refused in production by config): the process dies at a checkpoint, or
 * the store write fails, so the resilience tests can check that nothing is left held.
 */
export function faultInjectingCheckpoints(
  fault: Exclude<SessionServiceConfig['SAGA_FAULT'], 'none'>,
  logger: Logger,
): SagaCheckpoints {
  return {
    reached(point) {
      if (FAULT_AT[fault] !== point) return;
      if (fault === 'fail-before-store') {
        throw new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'session store is unavailable (injected fault)', {
          retryable: true,
        });
      }
      logger.fatal({ point }, 'injected crash');
      process.exit(137);
    },
  };
}
