import type { XmlNode } from '@maskline/telephony-xml';

export type Provider = 'plivo' | 'twilio';

export interface ProviderAccount {
  /** Plivo Auth ID / Twilio Account SID. */
  accountId: string;
  authToken: string;
}

export type Params = Record<string, string>;

/** What a `<Dial>` asked for, as the simulator reads it back. */
export interface DialedLeg {
  /** E.164. */
  number: string;
  callerId: string;
  record: boolean;
  /** Where the dialled leg's progress is reported. */
  eventsUrl: string;
}

/**
 * How one provider talks to an application: its call ids and webhook parameters, how it signs
 * requests, how it reads its own `<Dial>` and `<Record>`, and which recording callbacks it sends.
 * The simulator walks a call the same way for every provider; everything that differs is here.
 */
export interface SimulatedProvider {
  readonly name: Provider;
  newCallId(): string;
  callParams(callId: string, from: string, to: string, account: ProviderAccount): Params;
  dialedLeg(dial: XmlNode, number: XmlNode, record: XmlNode | undefined): DialedLeg;
  legEvent(base: Params, leg: string, status: 'ringing' | 'answered', account: ProviderAccount): Params;
  dialEnded(base: Params, leg: string, answered: boolean, seconds: number): Params;
  hangup(base: Params, seconds: number): Params;
  /** The recording callbacks this provider sends for a recorded dial: [url, params] in order. */
  recordingCallbacks(
    dial: XmlNode,
    record: XmlNode | undefined,
    base: Params,
    answered: boolean,
    seconds: number,
    account: ProviderAccount,
  ): Array<[string, Params]>;
  /** A new message id (Plivo's MessageUUID, Twilio's MessageSid). */
  newMessageId(): string;
  /** The parameters of the provider's webhook for a text message (with media URLs) from `from` to `to`. */
  messageParams(
    messageId: string,
    from: string,
    to: string,
    text: string,
    media: string[],
    account: ProviderAccount,
  ): Params;
  /** The headers that sign a POST of these form parameters to this URL (checked against the provider's own package). */
  sign(url: string, params: Params, token: string): Record<string, string>;
}
