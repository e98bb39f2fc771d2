import { Injectable } from '@nestjs/common';
import { PinAuthenticationStatus, type EventPayloadInputOf } from '@maskline/contracts';
import { EventPublisher } from '@maskline/messaging';
import { BackgroundWork } from '../background/background-work';

export type AnnouncedStatus = 'success' | 'failed' | 'AuthorizedCaller';

export interface Announcement {
  accountId: string;
  virtualNumber: string;
  callerNumber: string;
  callId: string;
  status: AnnouncedStatus;
  sessionId: string | null;
  retryCounter: number;
  at: Date;
}

/**
 * Plivo's SessionPinAuthenticationStatus, as a durable JetStream event. Its `Nats-Msg-Id` comes
 * from what it announces (call, status, attempt), so asking again never stores it twice.
 */
@Injectable()
export class OutcomeAnnouncer {
  constructor(
    private readonly events: EventPublisher,
    private readonly background: BackgroundWork,
  ) {}

  /** Resolves once JetStream has stored the event. */
  async announce(a: Announcement): Promise<void> {
    await this.events.publish(PinAuthenticationStatus, payloadOf(a), { msgId: msgIdOf(a) });
  }

  /**
   * A verification's outcome, without holding its reply: the publish starts now (it leaves before
   * the reply does), and a publish JetStream does not acknowledge is asked again with backoff and,
   * if it never is, logged as an error and counted (BackgroundWork). One call's announcements are
   * stored in the order they were made. Shutdown waits for those under way.
   */
  announceSoon(a: Announcement): void {
    void this.background.run(() => this.announce(a), {
      what: 'pin status event',
      key: `${a.virtualNumber}:${a.callId}`,
    });
  }
}

function payloadOf(a: Announcement): EventPayloadInputOf<typeof PinAuthenticationStatus> {
  return {
    accountId: a.accountId,
    sessionId: a.sessionId,
    virtualNumber: a.virtualNumber,
    callerNumber: a.callerNumber,
    callId: a.callId,
    status: a.status,
    retryCounter: a.retryCounter,
    at: a.at.toISOString(),
  };
}

function msgIdOf(a: Announcement): string {
  // The call id is the provider's: scoped to the number (and its account) whose webhook carried it.
  return `pin-status:${a.accountId}:${a.virtualNumber}:${a.callId}:${a.status}:${a.retryCounter}`;
}
