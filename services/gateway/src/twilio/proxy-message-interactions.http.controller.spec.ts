import { CodedError } from '@maskline/contracts';
import type { EventPublisher, NumberRouting, NumberRoutingCache, RpcClient } from '@maskline/messaging';
import { Keyring } from '@maskline/crypto';
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '../config/gateway.config';
import type { ReplayGuard } from '../voice/replay-guard';
import type { Principal } from '../auth/principal';
import { ProxyMessageInteractionsHttpController } from './proxy-message-interactions.http.controller';

const ACCOUNT = 'MAAAAAAAAAAAAAAAAAA1';
const SUB = 'SAAAAAAAAAAAAAAAAAA1';
const SIBLING = 'SAAAAAAAAAAAAAAAAAA2';
const NUMBER = '+14155550100';
const SERVICE = `KS${'a'.repeat(32)}`;
const SESSION = `KC${'b'.repeat(32)}`;
const PARTICIPANT = `KP${'c'.repeat(32)}`;

/** The controller with the session's target as session-service prepares it, and the number as routed now. */
function controller(holder: { accountId: string; subaccountId: string | null }) {
  const published: unknown[] = [];
  const rpc = {
    request: jest.fn(async () => ({
      accountId: ACCOUNT,
      sessionId: '00000000-0000-4000-8000-000000000001',
      sessionSid: SESSION,
      serviceSid: SERVICE,
      participantSid: PARTICIPANT,
      virtualNumber: NUMBER,
      to: '+14155550111',
      direction: 'out',
    })),
  } as unknown as RpcClient;
  const routing: NumberRouting = {
    ...holder,
    provider: 'twilio',
    status: 'active',
    credentials: { accountId: `AC${'d'.repeat(32)}`, authToken: 'token' },
    fallbackAnswerUrl: null,
    fallbackMessage: null,
    smsEnabled: true,
    proxyServiceSid: SERVICE,
    heldConfirmed: true,
  };
  const numbers = { get: jest.fn(async () => routing) } as unknown as NumberRoutingCache;
  const events = {
    publish: jest.fn(async (_contract: unknown, payload: unknown) => void published.push(payload)),
  } as unknown as EventPublisher;
  const config = {
    CALL_CONTEXT_KEYS: new Keyring([{ id: 'k1', key: randomBytes(32) }]),
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
  } as unknown as GatewayConfig;
  const c = new ProxyMessageInteractionsHttpController(rpc, config, numbers, events, {} as ReplayGuard);
  return { c, published };
}

const asSubaccount: Principal = { authId: SUB, accountId: ACCOUNT, kind: 'sub', subaccountId: SUB };
const send = (c: ProxyMessageInteractionsHttpController, principal: Principal) =>
  c.send(principal, SERVICE, SESSION, PARTICIPANT, { Body: 'at gate B' } as never);

describe('a message sent through the API to a participant', () => {
  it('goes from its Session’s number while the number is still the Session’s owner’s, marked as that holder’s', async () => {
    const { c, published } = controller({ accountId: ACCOUNT, subaccountId: SUB });
    await expect(send(c, asSubaccount)).resolves.toMatchObject({ type: 'message', session_sid: SESSION });
    expect(published).toEqual([expect.objectContaining({ accountId: ACCOUNT, subaccountId: SUB })]);
  });

  it('is refused (404) and nothing is taken once the number has moved to a sibling, to the main account, or to another account', async () => {
    for (const holder of [
      { accountId: ACCOUNT, subaccountId: SIBLING },
      { accountId: ACCOUNT, subaccountId: null },
      { accountId: 'MAAAAAAAAAAAAAAAAAA2', subaccountId: SUB },
    ]) {
      const { c, published } = controller(holder);
      const refused = await send(c, asSubaccount).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(CodedError);
      expect(refused).toMatchObject({ code: 'NOT_FOUND' });
      expect(published).toEqual([]);
    }
  });

  it('from the main account, is refused once its number has moved to a subaccount', async () => {
    const { c, published } = controller({ accountId: ACCOUNT, subaccountId: SUB });
    const main: Principal = { authId: ACCOUNT, accountId: ACCOUNT, kind: 'main' };
    await expect(send(c, main)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(published).toEqual([]);
  });
});
