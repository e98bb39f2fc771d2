import { Controller, Inject } from '@nestjs/common';
import { RecordAuthorizedCaller, VerifyPin, type RpcParsedRequestOf as Req } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { PinVerifier } from './pin-verifier';

@Controller()
export class VerificationNatsController {
  constructor(
    private readonly verifier: PinVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @RpcHandler(VerifyPin)
  verify(request: Req<typeof VerifyPin>) {
    return this.verifier.verify(request);
  }

  @RpcHandler(RecordAuthorizedCaller)
  async authorizedCaller(request: Req<typeof RecordAuthorizedCaller>) {
    await this.verifier.announce(request, 'AuthorizedCaller', request.sessionId, 0, new Date(this.clock()));
    return { recorded: true };
  }
}
