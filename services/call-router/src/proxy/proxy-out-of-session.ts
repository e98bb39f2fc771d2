import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  CodedError,
  ErrorCodes,
  mayHaveHappened,
  CreateProxySession,
  PROXY_SESSION_FIELDS,
  canonicalE164Schema,
  isoTimeSchema,
  sessionIdOfProxySid,
  zodOf,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { ProxyCallbacks, type CallbackBudget } from './proxy-callbacks';

/** Twilio's auto-create answer: a Session between the caller (on the number called) and `participantIdentifier`. */
const autoCreateSchema = z.object({
  uniqueName: zodOf(PROXY_SESSION_FIELDS.uniqueName.kind).optional(),
  mode: zodOf(PROXY_SESSION_FIELDS.mode.kind).optional(),
  ttl: zodOf(PROXY_SESSION_FIELDS.ttl.kind).optional(),
  dateExpiry: isoTimeSchema.optional(),
  // Canonical, as the API's participants are: compared with the number called, dialled, texted.
  participantIdentifier: canonicalE164Schema,
  participantProxyIdentifier: canonicalE164Schema.optional(),
});

/** An auto-create answer: the Session to make (its fields as Twilio names them). */
export type AutoCreate = z.infer<typeof autoCreateSchema>;

/** A TwiML document, to carry out (what Maskline executes of it: see twiml-answer.ts). */
type TwimlAnswer = { kind: 'twiml'; xml: string };

/** The callback's answer: a Session to make, or a TwiML document. */
export type OutOfSessionReply = { kind: 'auto-create'; create: AutoCreate } | TwimlAnswer;

/** What to do: go on in the Session made, or carry out the TwiML. */
export type OutOfSessionAnswer = { kind: 'session'; sessionId: string; to: string } | TwimlAnswer;

/** A call or text to a Service's number from someone in none of its open Sessions. */
export interface OutsideContact {
  type: 'Voice' | 'Message';
  resourceSid: string;
  from: string;
  number: string;
  owner: { accountId: string; subaccountId: string | null; serviceSid: string };
  /** What its callback shares with the interaction's others (see CallbackBudget). */
  budget?: CallbackBudget;
}

/**
 * Twilio Proxy's out-of-session callback: the Service's `out_of_session_callback_url` is told of
 * the call or text (signed; `From`, `To`, the SIDs and the type; never a message's text). An
 * auto-create JSON answer makes a Session between the caller, on the number called, and the
 * participant it names, and the interaction then goes on as in any open Session. A TwiML answer
 * (`application/xml` or `text/xml`) is carried out. Any other answer, or none, leaves the number's
 * own fallback to answer.
 */
@Injectable()
export class ProxyOutOfSession {
  private readonly outcomes;

  constructor(
    private readonly callbacks: ProxyCallbacks,
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter(
      'maskline_proxy_out_of_session_total',
      'Out-of-session callbacks by outcome',
      ['outcome'],
    );
  }

  /**
   * What the callback's answer says to do: go on in the Session it made (with whom to reach in
   * it), or carry out its TwiML; null for anything else.
   */
  async ask(contact: OutsideContact): Promise<OutOfSessionAnswer | null> {
    const reply = await this.callback(contact);
    if (reply?.kind !== 'auto-create') return reply;
    return this.autoCreate(contact, reply.create);
  }

  /**
   * Posts the Service's out-of-session callback about the contact: its answer, an auto-create (not
   * yet made) or TwiML; null when there is no callback or its answer is not one of those.
   */
  async callback(contact: OutsideContact): Promise<OutOfSessionReply | null> {
    const policy = await this.callbacks.policy(contact.owner);
    if (!policy?.outOfSessionCallbackUrl) return null;
    const answer = await this.callbacks.post(
      'out-of-session',
      contact.owner,
      policy.outOfSessionCallbackUrl,
      {
        From: contact.from,
        To: contact.number,
        interactionServiceSid: contact.owner.serviceSid,
        interactionType: contact.type,
        inboundResourceSid: contact.resourceSid,
        inboundResourceType: contact.type === 'Voice' ? 'Call' : 'Message',
      },
      contact.budget,
    );
    if (answer.kind === 'failed' || answer.status < 200 || answer.status >= 300) {
      this.outcomes.inc({ outcome: 'no-answer' });
      return null;
    }
    if (/^(application|text)\/xml\b/i.test(answer.contentType)) {
      this.outcomes.inc({ outcome: 'twiml' });
      return { kind: 'twiml', xml: answer.body };
    }
    if (!/^application\/json\b/i.test(answer.contentType)) {
      this.outcomes.inc({ outcome: 'not-understood' });
      return null;
    }
    const parsed = autoCreateSchema.safeParse(safeJson(answer.body));
    if (!parsed.success || (parsed.data.participantProxyIdentifier ?? contact.number) !== contact.number) {
      // Maskline gives a Session's two participants one number: the one that was called.
      this.outcomes.inc({ outcome: 'invalid-auto-create' });
      this.logger.warn(
        { serviceSid: contact.owner.serviceSid },
        'out-of-session answer is not a usable auto-create',
      );
      return null;
    }
    return { kind: 'auto-create', create: parsed.data };
  }

  /**
   * Makes the Session an auto-create answer asks for: the Session, or null when session-service
   * refused it. Throws when it may have been made or may pass if asked again. `timeoutMs`: how long
   * to wait for session-service (the RPC default unless given).
   */
  async autoCreate(
    contact: OutsideContact,
    create: AutoCreate,
    options: { timeoutMs?: number } = {},
  ): Promise<Extract<OutOfSessionAnswer, { kind: 'session' }> | null> {
    try {
      const session = await this.rpc.request(
        CreateProxySession,
        {
          scope: {
            accountId: contact.owner.accountId,
            ...(contact.owner.subaccountId ? { subaccountId: contact.owner.subaccountId } : {}),
          },
          service: contact.owner.serviceSid,
          ...(create.uniqueName ? { uniqueName: create.uniqueName } : {}),
          ...(create.mode ? { mode: create.mode } : {}),
          ...(create.ttl !== undefined ? { ttl: create.ttl } : {}),
          ...(create.dateExpiry ? { dateExpiry: create.dateExpiry } : {}),
          participants: [
            { identifier: contact.from, friendlyName: null, proxyIdentifier: contact.number },
            { identifier: create.participantIdentifier, friendlyName: null, proxyIdentifier: contact.number },
          ],
        },
        options,
      );
      this.outcomes.inc({ outcome: 'auto-created' });
      return {
        kind: 'session',
        sessionId: sessionIdOfProxySid(session.sid)!,
        to: create.participantIdentifier,
      };
    } catch (err) {
      // No answer: the session may have been made. Asked again later (a redelivery, the caller's
      // retry), the caller is then a party of it; said no now, the text would be lost.
      // Or given up by session-service's own reaper (it answered RPC.TIMEOUT for this before it had
      // a code of its own): asked again later too. Other server faults (a breaker open, nobody
      // listening) go to the fallback as before.
      if (!(err instanceof CodedError) || mayHaveHappened(err) || err.code === ErrorCodes.ABANDONED)
        throw err;
      // Refused (the name taken, the number held by one of them elsewhere, …): no Session.
      this.outcomes.inc({ outcome: 'auto-create-refused' });
      this.logger.warn(
        { code: err.code, serviceSid: contact.owner.serviceSid },
        'out-of-session auto-create refused',
      );
      return null;
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
