import type { Request } from 'express';
import { fromPlivoNumber } from '@maskline/plivo-wire';
import type {
  CallContext,
  RpcRequestOf,
  RouteCall,
  TelephonyProvider,
  VoiceStage,
} from '@maskline/contracts';

export type WebhookParams = Record<string, string>;
export type Direction = CallContext['direction'];

/** What a provider's webhook says about the call's legs, in Maskline's terms. */
export type LegReport = Pick<
  RpcRequestOf<typeof RouteCall>,
  | 'legStatus'
  | 'legCallId'
  | 'durationSeconds'
  | 'billedDurationSeconds'
  | 'hangupCause'
  | 'recording'
  | 'digits'
>;

/**
 * How one provider's voice webhooks are read: where the call id and the numbers are, how they
 * are signed, what makes a request unique (for replay memory), and what its leg parameters mean.
 */
export interface WebhookDialect {
  readonly provider: TelephonyProvider;
  /** The call's A leg. */
  callId(stage: VoiceStage, p: WebhookParams): string | undefined;
  /**
   * Parameters that, when present, must name the virtual number: `To` on a call into it, `From`
   * on a call Maskline placed from it, the dialled leg's caller ID.
   */
  numberParams(stage: VoiceStage, direction: Direction): readonly string[];
  /** The provider account the request says it comes from, when it says (Twilio's AccountSid). */
  providerAccount(p: WebhookParams): string | undefined;
  /** Whether the request carries a signature at all (checked before any lookup). */
  signed(req: Request): boolean;
  /** Checks the provider's signature over this exact request with the number's token. */
  signatureValid(req: Request, url: string, p: WebhookParams, token: string): boolean;
  /**
   * What makes this request unique, for replay memory (every key must be new): Plivo's nonce,
   * which its signature covers; for Twilio, which has none, the signature itself (parameters are
   * signed as `name+value` without separators, so a copy can shift them around under the same
   * signature) and the stage of the call (one answer per call, one entry per PIN prompt, one event
   * per leg status).
   */
  replayKeys(req: Request, stage: VoiceStage, p: WebhookParams, context: CallContext | null): string[];
  /**
   * What every copy of this very signed request shares, however its parameters are re-split (both
   * providers sign `keyvalue` pairs joined with nothing between): Plivo's nonce, Twilio's signature.
   */
  requestKey(req: Request): string | undefined;
  legReport(stage: VoiceStage, p: WebhookParams, context: CallContext | null): LegReport;
}

/** Numbers in webhooks as E.164 (Plivo writes them without `+`). */
export const toE164 = fromPlivoNumber;

export const int = (v: string | undefined) => (v && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
export const clip = (v: string | undefined, n: number) => (v === undefined ? undefined : v.slice(0, n));

/** A request's parameters that are plain strings (form fields; anything nested is dropped). */
export function stringParams(source: unknown): WebhookParams {
  const out: WebhookParams = {};
  if (!source || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}
