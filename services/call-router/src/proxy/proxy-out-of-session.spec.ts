import pino from 'pino';
import { CodedError, ErrorCodes, ProxyErrorCodes } from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import type { ProxyCallbacks } from './proxy-callbacks';
import { ProxyOutOfSession } from './proxy-out-of-session';
import { OUTSIDE_TEXT } from './outside-contact.test-fixture';

const CONTACT = OUTSIDE_TEXT;

/**
 * The Service's callback answers the auto-create `answer`; session-service answers with `made`
 * (what it was asked, recorded in `asked`).
 */
function outOfSessionAnswering(
  answer: Record<string, unknown>,
  made: (request: unknown) => Promise<unknown>,
) {
  const asked: unknown[] = [];
  const callbacks = {
    policy: async () => ({ outOfSessionCallbackUrl: 'http://127.0.0.1:9/out-of-session' }),
    post: async () => ({
      kind: 'answered',
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify(answer),
    }),
  } as unknown as ProxyCallbacks;
  const rpc = {
    request: async (_contract: unknown, request: unknown) => {
      asked.push(request);
      return made(request);
    },
  } as unknown as RpcClient;
  const oos = new ProxyOutOfSession(callbacks, rpc, pino({ level: 'silent' }), new MetricsService('test'));
  return { oos, asked };
}

/** The Service's callback answers an auto-create; session-service answers with `failure`. */
function outOfSession(failure: Error) {
  return outOfSessionAnswering({ participantIdentifier: '+14155550122' }, async () => {
    throw failure;
  }).oos;
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

describe('an out-of-session auto-create answer', () => {
  const answering = (answer: Record<string, unknown>) =>
    outOfSessionAnswering(answer, async () => ({ sid: 'KC0123456789abcdef0123456789abcdef' }));

  it('names its participant in the canonical form, as the API’s participants are: the Session made and the number reached', async () => {
    // +44 0 20…: a national prefix after the country code, the number a carrier dials is +44 20….
    const { oos, asked } = answering({ participantIdentifier: '+4402071234567' });
    const answer = await oos.ask(CONTACT);
    expect(answer).toMatchObject({ kind: 'session', to: '+442071234567' });
    expect(asked).toEqual([
      expect.objectContaining({
        participants: [
          expect.objectContaining({ identifier: CONTACT.from }),
          expect.objectContaining({ identifier: '+442071234567' }),
        ],
      }),
    ]);
  });

  it('with a proxy number that is the number called in another spelling: usable, not refused', async () => {
    const { oos } = answering({
      participantIdentifier: '+442071234567',
      participantProxyIdentifier: '+4402071234568',
    });
    const called = { ...CONTACT, number: '+442071234568' };
    await expect(oos.ask(called)).resolves.toMatchObject({ kind: 'session', to: '+442071234567' });
  });
});
