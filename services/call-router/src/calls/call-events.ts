import { Injectable } from '@nestjs/common';
import { CallProgressed, routingSessionSchema, type EventPayloadInputOf } from '@maskline/contracts';
import { EventPublisher } from '@maskline/messaging';
import { RoutingIndex } from '../routing/routing-index';

type Step = EventPayloadInputOf<typeof CallProgressed>['step'];

/** Announces what happened on a call through a session (session-service and the callbacks follow). */
@Injectable()
export class CallEvents {
  constructor(
    private readonly events: EventPublisher,
    private readonly index: RoutingIndex,
  ) {}

  async step(
    step: Step,
    call: {
      accountId: string;
      sessionId: string;
      virtualNumber: string;
      callId: string;
      from: string;
      to: string;
    },
    extra: Partial<EventPayloadInputOf<typeof CallProgressed>> = {},
  ): Promise<void> {
    // The session as this router holds it, for the callback dispatcher (its account's only; none
    // while the index is not trusted, being loaded or behind a broken feed; a view that would not
    // pass the event's check is left out rather than failing the step).
    const held = this.index.ready ? this.index.get(call.sessionId) : undefined;
    const routing =
      held?.accountId === call.accountId && routingSessionSchema.safeParse(held).success ? held : undefined;
    await this.events.publish(
      CallProgressed,
      {
        accountId: call.accountId,
        sessionId: call.sessionId,
        virtualNumber: call.virtualNumber,
        callId: call.callId,
        step,
        at: new Date().toISOString(),
        from: call.from,
        to: call.to,
        ...extra,
        ...(routing ? { routing } : {}),
      },
      // Scoped to the session: a call id is the provider's, and another tenant can sign webhooks
      // for its own number that carry this call's id; their steps must never dedupe away these.
      { msgId: `call:${call.sessionId}:${call.callId}:${step}` },
    );
  }
}
