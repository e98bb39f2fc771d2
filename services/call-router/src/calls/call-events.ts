import { Injectable } from '@nestjs/common';
import { CallProgressed, type EventPayloadInputOf } from '@maskline/contracts';
import { EventPublisher } from '@maskline/messaging';

type Step = EventPayloadInputOf<typeof CallProgressed>['step'];

/** Announces what happened on a call through a session (session-service and the callbacks follow). */
@Injectable()
export class CallEvents {
  constructor(private readonly events: EventPublisher) {}

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
      },
      { msgId: `call:${call.callId}:${step}` },
    );
  }
}
