import type { EventPayloadOf } from '../contract';
import { CallProgressed } from '../sessions/sessions.contract';
import { MessageFailed, MessageRelayed } from '../messages/messages.contract';

/**
 * The interactions whose end session-service has stored, in NATS KV (`<session id>.<interaction
 * token>`): written by session-service once the step is in the store, read by the callback
 * dispatcher before it tells anyone of that end. A callback about an interaction is then sent only
 * once a fetch of that interaction (a Proxy Interaction, a session's interactions and totals) finds
 * it; two consumers of one event stream have no order between them otherwise.
 */
export const STORED_INTERACTIONS_BUCKET = 'maskline-stored-interactions';
/** How long a mark is kept: far longer than a callback waits for one. */
export const STORED_INTERACTION_MARK_TTL_MS = 3_600_000;
/**
 * How long after its event a callback about an interaction's end waits for the mark, at most: past
 * it (session-service or its store down) the callback goes without, as it did before marks.
 */
export const STORED_INTERACTION_WAIT_MS = 30_000;

/** An interaction's end: the session, and the interaction's id (a call's callId, a message's id). */
export interface InteractionEnd {
  sessionId: string;
  interactionId: string;
}

/** An event that may end an interaction (a call's steps, a message's outcome), or any other. */
export type InteractionEvent =
  | { subject: typeof CallProgressed.subject; payload: EventPayloadOf<typeof CallProgressed> }
  | { subject: typeof MessageRelayed.subject; payload: EventPayloadOf<typeof MessageRelayed> }
  | { subject: typeof MessageFailed.subject; payload: EventPayloadOf<typeof MessageFailed> }
  | { subject: string; payload: unknown };

/** The interaction `event` ends, if it ends one: a call when both legs hung up; a message once relayed or failed. */
export function interactionEndedBy(event: InteractionEvent): InteractionEnd | undefined {
  if (event.subject === CallProgressed.subject) {
    const p = event.payload as EventPayloadOf<typeof CallProgressed>;
    return p.step === 'parties-hangup' ? { sessionId: p.sessionId, interactionId: p.callId } : undefined;
  }
  if (event.subject === MessageRelayed.subject || event.subject === MessageFailed.subject) {
    const p = event.payload as EventPayloadOf<typeof MessageRelayed | typeof MessageFailed>;
    return { sessionId: p.sessionId, interactionId: p.messageId };
  }
  return undefined;
}
