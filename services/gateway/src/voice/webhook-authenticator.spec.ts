import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import * as twilio from 'twilio';
import {
  encodeCallContext,
  type CallContextBinding,
  type FollowUp,
  type VoiceStage,
} from '@maskline/contracts';
import { Keyring } from '@maskline/crypto';
import { plivoV3Signature } from '@maskline/webhook-signatures';
import type { InboundWebhookLimiter } from '../auth/inbound-webhook-limiter';
import type { GatewayConfig } from '../config/gateway.config';
import type { NumberRouting, NumberRoutingCache } from '@maskline/messaging';
import { plivoWebhook } from './plivo-webhook.dialect';
import type { ReplayGuard } from './replay-guard';
import { twilioWebhook } from './twilio-webhook.dialect';
import { WebhookAuthenticator, type WebhookVerdict } from './webhook-authenticator';
import type { WebhookDialect } from './webhook-dialect';

const BASE = 'https://maskline.test';
const keys = new Keyring([{ id: 'k1', key: randomBytes(32) }]);
const OWN = '+14155550100';
const OTHER = '+14155550200';
const CALLER = '+16285550001';
const accountOf: Record<string, string> = { [OWN]: 'MA000000000000000OWN', [OTHER]: 'MA00000000000000OTHR' };
const providerAccount = { plivo: 'MAPLIVOACCOUNT000001', twilio: `AC${'1'.repeat(32)}` };
const tokens: Record<string, string> = { [OWN]: 'own-token', [OTHER]: 'other-token' };

type Setup = { dialect: WebhookDialect; numbers: NumberRoutingCache; replay: ReplayGuard; seen: Set<string> };

function setup(
  dialect: WebhookDialect,
  options: { numbersDown?: boolean; replayDown?: boolean; overLimit?: boolean } = {},
): Setup & {
  auth: WebhookAuthenticator;
} {
  const seen = new Set<string>();
  const numbers = {
    get: async (n: string): Promise<NumberRouting | null> => {
      if (options.numbersDown) throw new Error('number-pool is not answering');
      if (!tokens[n]) return null;
      return {
        accountId: accountOf[n],
        subaccountId: null,
        provider: dialect.provider,
        status: 'active',
        credentials: { accountId: providerAccount[dialect.provider], authToken: tokens[n] },
        fallbackAnswerUrl: null,
        fallbackMessage: null,
        smsEnabled: true,
        proxyServiceSid: null,
        heldConfirmed: true,
      };
    },
  } as unknown as NumberRoutingCache;
  const replay = {
    firstTime: async (key: string) => {
      if (options.replayDown) throw new Error('KV is not answering');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  } as unknown as ReplayGuard;
  const config = {
    CALL_CONTEXT_KEYS: keys,
    CALL_CONTEXT_TTL_SECONDS: 600,
    WEBHOOK_SIGNATURE_CHECK: true,
  } as unknown as GatewayConfig;
  // Over its allowance only when a test says so (what the limiter itself does has its own spec).
  const limiter = {
    refusing: () => options.overLimit === true,
  } as unknown as InboundWebhookLimiter;
  return {
    dialect,
    numbers,
    replay,
    seen,
    auth: new WebhookAuthenticator(numbers, replay, limiter, config),
  };
}

/** A webhook as the provider sends it, signed with the token of `signer`'s number. */
function webhook(
  dialect: WebhookDialect,
  stage: VoiceStage,
  params: Record<string, string>,
  options: { signer?: string; query?: string; nonce?: string } = {},
) {
  const url = `${BASE}/voice/${dialect.provider}/${stage}${options.query ?? ''}`;
  const token = tokens[options.signer ?? OWN];
  const headers: Record<string, string> = {};
  if (dialect.provider === 'plivo') {
    const nonce = options.nonce ?? randomBytes(6).toString('hex');
    headers['x-plivo-signature-v3'] = plivoV3Signature('POST', url, params, nonce, token);
    headers['x-plivo-signature-v3-nonce'] = nonce;
  } else {
    headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(token, url, params);
  }
  const req = { method: 'POST', header: (name: string) => headers[name.toLowerCase()] } as unknown as Request;
  const query = Object.fromEntries(new URLSearchParams(options.query ?? ''));
  return { req, url, params, query, stage };
}

const ctx = (dialect: WebhookDialect, followUp: FollowUp, binding: Partial<CallContextBinding> = {}) =>
  encodeCallContext(
    followUp,
    {
      provider: dialect.provider,
      virtualNumber: OWN,
      accountId: accountOf[OWN],
      callId: 'CALL-1',
      direction: 'inbound',
      ...binding,
    },
    keys,
    { nowSeconds: Math.floor(Date.now() / 1000), ttlSeconds: 600 },
  );

const call = (dialect: WebhookDialect, to: string, callId = 'CALL-1', extra: Record<string, string> = {}) =>
  dialect.provider === 'plivo'
    ? { CallUUID: callId, From: CALLER.slice(1), To: to.slice(1), ...extra }
    : { CallSid: callId, AccountSid: providerAccount.twilio, From: CALLER, To: to, ...extra };

const run = (s: ReturnType<typeof setup>, w: ReturnType<typeof webhook>): Promise<WebhookVerdict> =>
  s.auth.authenticate(s.dialect, w.stage, w.req, w.url, w.params, w.query);

describe.each([plivoWebhook, twilioWebhook])('webhook authentication ($provider)', (dialect) => {
  it('accepts an answer signed with the credentials of the number it calls, and confines it to that number', async () => {
    const verdict = await run(setup(dialect), webhook(dialect, 'answer', call(dialect, OWN)));
    expect(verdict).toEqual({
      kind: 'accepted',
      webhook: {
        virtualNumber: OWN,
        accountId: accountOf[OWN],
        subaccountId: null,
        callId: 'CALL-1',
        caller: CALLER,
        direction: 'inbound',
        context: null,
      },
    });
  });

  it.each<[string, (d: WebhookDialect) => ReturnType<typeof webhook>]>([
    ['signed with another number’s token', (d) => webhook(d, 'answer', call(d, OWN), { signer: OTHER })],
    [
      'unsigned',
      (d) => ({
        ...webhook(d, 'answer', call(d, OWN)),
        req: { method: 'POST', header: () => undefined } as unknown as Request,
      }),
    ],
    [
      'vn naming another number than To',
      (d) => webhook(d, 'answer', call(d, OWN), { query: `?vn=${encodeURIComponent(OTHER)}` }),
    ],
    ['To a number in no inventory', (d) => webhook(d, 'answer', call(d, '+14155550999'))],
    ['a follow-up stage without a context', (d) => webhook(d, 'dial-ended', call(d, OWN))],
    [
      'a context made for another stage',
      (d) => webhook(d, 'hangup', call(d, OWN), { query: `?ctx=${ctx(d, { stage: 'dial-ended' })}` }),
    ],
    [
      'a context made for another call',
      (d) =>
        webhook(d, 'dial-ended', call(d, OWN, 'CALL-2'), {
          query: `?ctx=${ctx(d, { stage: 'dial-ended' })}`,
        }),
    ],
    [
      'a context made for another provider',
      (d) =>
        webhook(d, 'dial-ended', call(d, OWN), {
          query: `?ctx=${ctx(d, { stage: 'dial-ended' }, { provider: d.provider === 'plivo' ? 'twilio' : 'plivo' })}`,
        }),
    ],
    [
      'a context for another number, with To the number it was made for but signed by this one',
      (d) =>
        webhook(d, 'dial-ended', call(d, OTHER), {
          query: `?ctx=${ctx(d, { stage: 'dial-ended' }, { virtualNumber: OTHER, accountId: accountOf[OTHER] })}`,
        }),
    ],
    [
      'a context naming another owner than the number has',
      (d) =>
        webhook(d, 'dial-ended', call(d, OWN), {
          query: `?ctx=${ctx(d, { stage: 'dial-ended' }, { accountId: accountOf[OTHER] })}`,
        }),
    ],
    [
      'To disagreeing with its context',
      (d) => webhook(d, 'dial-ended', call(d, OTHER), { query: `?ctx=${ctx(d, { stage: 'dial-ended' })}` }),
    ],
    [
      'From disagreeing on a call Maskline placed',
      (d) =>
        webhook(
          d,
          'outbound-answer',
          { ...call(d, CALLER), From: d.provider === 'plivo' ? OTHER.slice(1) : OTHER },
          {
            query: `?ctx=${ctx(d, { stage: 'outbound-answer', sessionId: '8a4ab0b2-7a9f-4c55-9d0c-4f1c2d8d1a11' }, { direction: 'outbound', callId: undefined })}`,
          },
        ),
    ],
  ])('refuses a webhook %s', async (_name, make) => {
    expect(await run(setup(dialect), make(dialect))).toMatchObject({ kind: 'refused' });
  });

  it('refuses the same request a second time, on any replica', async () => {
    const s = setup(dialect);
    const w = webhook(dialect, 'answer', call(dialect, OWN), { nonce: 'fixed-nonce' });
    expect(await run(s, w)).toMatchObject({ kind: 'accepted' });
    expect(await run(s, w)).toEqual({ kind: 'refused', reason: 'replayed' });
  });

  it('takes each stage of a follow-up once, but every distinct event of it', async () => {
    const s = setup(dialect);
    const token = ctx(dialect, { stage: 'dial-event' });
    const leg = (status: string) =>
      dialect.provider === 'plivo'
        ? call(dialect, OWN, 'CALL-1', {
            DialALegUUID: 'CALL-1',
            DialBLegUUID: 'LEG-1',
            DialBLegStatus: status,
          })
        : {
            CallSid: 'LEG-1',
            ParentCallSid: 'CALL-1',
            AccountSid: providerAccount.twilio,
            From: OWN,
            To: CALLER,
            CallStatus: status,
          };
    expect(
      await run(s, webhook(dialect, 'dial-event', leg('ringing'), { query: `?ctx=${token}` })),
    ).toMatchObject({ kind: 'accepted' });
    expect(
      await run(s, webhook(dialect, 'dial-event', leg('answered'), { query: `?ctx=${token}` })),
    ).toMatchObject({ kind: 'accepted' });
  });

  it('keeps one number’s replay memory apart from another’s', async () => {
    const s = setup(dialect);
    await run(s, webhook(dialect, 'answer', call(dialect, OWN), { nonce: 'shared' }));
    expect(
      await run(s, webhook(dialect, 'answer', call(dialect, OTHER), { signer: OTHER, nonce: 'shared' })),
    ).toMatchObject({
      kind: 'accepted',
    });
  });

  it('answers a signed webhook of an owner over its allowance as such, before writing its replay keys; a forged one is still refused', async () => {
    const s = setup(dialect, { overLimit: true });

    expect(await run(s, webhook(dialect, 'answer', call(dialect, OWN)))).toEqual({
      kind: 'over-limit',
      accountId: accountOf[OWN],
    });
    expect(s.seen.size).toBe(0);
    expect(await run(s, webhook(dialect, 'answer', call(dialect, OWN), { signer: OTHER }))).toMatchObject({
      kind: 'refused',
    });
  });

  it('treats a failed lookup or replay check as an outage, not a refusal', async () => {
    expect(
      await run(setup(dialect, { numbersDown: true }), webhook(dialect, 'answer', call(dialect, OWN))),
    ).toMatchObject({
      kind: 'unavailable',
    });
    expect(
      await run(setup(dialect, { replayDown: true }), webhook(dialect, 'answer', call(dialect, OWN))),
    ).toMatchObject({
      kind: 'unavailable',
    });
  });
});

it('Twilio: refuses a request whose AccountSid is not the number’s provider account', async () => {
  const s = setup(twilioWebhook);
  const w = webhook(twilioWebhook, 'answer', {
    ...call(twilioWebhook, OWN),
    AccountSid: `AC${'2'.repeat(32)}`,
  });
  expect(await run(s, w)).toEqual({ kind: 'refused', reason: 'provider account is not the number’s' });
});

it('Twilio: a copy with its parameters shifted under the same signature is still a replay', async () => {
  const s = setup(twilioWebhook);
  const genuine = webhook(twilioWebhook, 'answer', {
    ...call(twilioWebhook, OWN),
    CallStatus: 'ringing',
    Called: OWN,
  });
  expect(await run(s, genuine)).toMatchObject({ kind: 'accepted' });
  // Twilio signs `name+value` pairs with no separator: `CallStatus`+`ringing`+`Called`+`+1…` reads the
  // same as `CallStatus`+`ringingCalled+1…`, so this copy carries a valid signature and a new stage key.
  const { Called: _called, ...rest } = genuine.params;
  const shifted = { ...genuine, params: { ...rest, CallStatus: `ringingCalled${OWN}` } };
  expect(
    twilio.validateRequest(
      tokens[OWN],
      genuine.req.header('x-twilio-signature') as string,
      genuine.url,
      shifted.params,
    ),
  ).toBe(true);
  expect(await run(s, shifted)).toEqual({ kind: 'refused', reason: 'replayed' });
});
