import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { GetCallbackSigningToken } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { plivoV3Signature, twilioSignature, type Params } from '@maskline/webhook-signatures';

const TOKEN_TTL_MS = 60_000;

/**
 * Signs callbacks as Plivo does (X-Plivo-Signature-V3 with a fresh nonce), with the Auth Token of
 * the account (or subaccount) that owns the session, so customers verify them with Plivo's SDK
 * helpers. For a subaccount's session, X-Plivo-Signature-Ma-V3 is signed with the main account's.
 */
@Injectable()
export class CallbackSigner {
  private readonly tokens = new Map<string, { token: string; until: number }>();

  constructor(private readonly rpc: RpcClient) {}

  async headers(
    accountId: string,
    subaccountId: string | null,
    method: 'GET' | 'POST',
    url: string,
    params: Params,
  ): Promise<Record<string, string>> {
    const nonce = randomBytes(16).toString('hex');
    const signed = method === 'POST' ? params : {};
    const own = await this.token(accountId, subaccountId);
    const headers: Record<string, string> = {
      'X-Plivo-Signature-V3-Nonce': nonce,
      'X-Plivo-Signature-V3': plivoV3Signature(method, url, signed, nonce, own),
    };
    const main = subaccountId ? await this.token(accountId, null) : own;
    headers['X-Plivo-Signature-Ma-V3'] = plivoV3Signature(method, url, signed, nonce, main);
    return headers;
  }

  /** Twilio's signature (a Proxy Service's callbacks): X-Twilio-Signature with the owner's Auth Token. */
  async twilioHeaders(
    accountId: string,
    subaccountId: string | null,
    url: string,
    params: Params,
  ): Promise<Record<string, string>> {
    return { 'X-Twilio-Signature': twilioSignature(await this.token(accountId, subaccountId), url, params) };
  }

  private async token(accountId: string, subaccountId: string | null): Promise<string> {
    const key = subaccountId ?? accountId;
    const hit = this.tokens.get(key);
    if (hit && hit.until > Date.now()) return hit.token;
    const { authToken } = await this.rpc.request(GetCallbackSigningToken, {
      accountId,
      subaccountId: subaccountId ?? undefined,
    });
    this.tokens.set(key, { token: authToken, until: Date.now() + TOKEN_TTL_MS });
    return authToken;
  }
}
