import pino from 'pino';
import { CodedError, ErrorCodes, ProxyErrorCodes } from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import type { ProxyCallbacks } from './proxy-callbacks';
import { ProxyOutOfSession } from './proxy-out-of-session';
import { OUTSIDE_TEXT } from './outside-contact.test-fixture';

const CONTACT = OUTSIDE_TEXT;

/** The Service's callback answers an auto-create; session-service answers `created` with `failure`. */
function outOfSession(failure: Error) {
  const callbacks = {
    policy: async () => ({ outOfSessionCallbackUrl: 'http://127.0.0.1:9/out-of-session' }),
    post: async () => ({
      kind: 'answered',
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ participantIdentifier: '+14155550122' }),
    }),
  } as unknown as ProxyCallbacks;
  const rpc = {
    request: async () => {
      throw failure;
    },
  } as unknown as RpcClient;
  return new ProxyOutOfSession(callbacks, rpc, pino({ level: 'silent' }), new MetricsService('test'));
}

describe('an out-of-session auto-create that failed', () => {
  it.each([
    ErrorCodes.ABANDONED,
    ErrorCodes.DEPENDENCY_UNAVAILABLE,
    ErrorCodes.RPC_TIMEOUT,
    ErrorCodes.INTERNAL,
  ])(
    'in a way that may be made or may pass (%s): the failure goes up, so the text or call is asked again later',
    async (code) => {
      await expect(outOfSession(new CodedError(code, 'for a moment')).ask(CONTACT)).rejects.toMatchObject({
        code,
      });
    },
  );

  it.each([ProxyErrorCodes.PARTICIPANT_BUSY, ErrorCodes.CIRCUIT_OPEN, ErrorCodes.RPC_UNAVAILABLE])(
    'refused, or not asked at all (%s): no Session, and the number’s fallback answers',
    async (code) => {
      await expect(outOfSession(new CodedError(code, 'no')).ask(CONTACT)).resolves.toBeNull();
    },
  );
});
