import { Controller, Inject } from '@nestjs/common';
import { RecordAuthorizedCaller, VerifyPin, type RpcParsedRequestOf as Req } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { PinAttemptLog } from '../attempts/pin-attempt-log';
import { OutcomeAnnouncer } from './outcome-announcer';
import { PinVerifier } from './pin-verifier';

@Controller()
export class VerificationNatsController {
  constructor(
    private readonly verifier: PinVerifier,
    private readonly announcer: OutcomeAnnouncer,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly attempts: PinAttemptLog,
  ) {}

  @RpcHandler(VerifyPin)
  verify(request: Req<typeof VerifyPin>) {
    return this.verifier.verify(request);
  }

  /** Answered once the event is stored: the caller asks again if it is not. */
  @RpcHandler(RecordAuthorizedCaller)
  async authorizedCaller(request: Req<typeof RecordAuthorizedCaller>) {
    const at = new Date(this.clock());
    await this.announcer.announce({
      accountId: request.accountId,
      virtualNumber: request.virtualNumber,
      callerNumber: request.callerNumber,
      callId: request.callId,
      status: 'AuthorizedCaller',
      sessionId: request.sessionId,
      retryCounter: 0,
      at,
    });
    this.attempts.recordSoon({
      accountId: request.accountId,
      virtualNumber: request.virtualNumber,
      callerNumber: request.callerNumber,
      callId: request.callId,
      attempt: 0,
      outcome: 'authorized-caller',
      sessionId: request.sessionId,
      at,
    });
    return { recorded: true };
  }
}
