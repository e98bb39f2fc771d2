import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { RpcClient, SigningTokens } from '@maskline/messaging';
import { plivoV3Signature, twilioSignature, type Params } from '@maskline/webhook-signatures';

/**
 * Signs callbacks as Plivo does (X-Plivo-Signature-V3 with a fresh nonce), with the Auth Token of
 * the account (or subaccount) that owns the session, so customers verify them with Plivo's SDK
 * helpers. For a subaccount's session, X-Plivo-Signature-Ma-V3 is signed with the main account's.
 */
@Injectable()
export class CallbackSigner {
  private readonly tokens: SigningTokens;

  constructor(rpc: RpcClient) {
    this.tokens = new SigningTokens(rpc);
  }

  async headers(
    accountId: string,
    subaccountId: string | null,
    method: 'GET' | 'POST',
    url: string,
    params: Params,
  ): Promise<Record<string, string>> {
    const nonce = randomBytes(16).toString('hex');
    const signed = method === 'POST' ? params : {};
    const own = await this.tokens.of(accountId, subaccountId);
    const headers: Record<string, string> = {
      'X-Plivo-Signature-V3-Nonce': nonce,
      'X-Plivo-Signature-V3': plivoV3Signature(method, url, signed, nonce, own),
    };
    const main = subaccountId ? await this.tokens.of(accountId, null) : own;
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
    return {
      'X-Twilio-Signature': twilioSignature(await this.tokens.of(accountId, subaccountId), url, params),
    };
  }
}
