import { Controller } from '@nestjs/common';
import {
  RegisterSessionPins,
  ReleaseSessionPins,
  RevealPinsOfSessions,
  RevealSessionPins,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { PinRegistry } from './pin-registry';

@Controller()
export class RegistrationNatsController {
  constructor(private readonly registry: PinRegistry) {}

  @RpcHandler(RegisterSessionPins)
  register(request: Req<typeof RegisterSessionPins>) {
    return this.registry.register({
      accountId: request.scope.accountId,
      sessionId: request.sessionId,
      virtualNumber: request.virtualNumber,
      pins: request.pins,
    });
  }

  @RpcHandler(RevealSessionPins)
  reveal(request: Req<typeof RevealSessionPins>) {
    return this.registry.revealSession(request.sessionId, request.scope.accountId);
  }

  @RpcHandler(RevealPinsOfSessions)
  async revealMany(request: Req<typeof RevealPinsOfSessions>) {
    return { pins: await this.registry.revealSessions(request.sessionIds, request.scope.accountId) };
  }

  @RpcHandler(ReleaseSessionPins)
  async release(request: Req<typeof ReleaseSessionPins>) {
    return { released: await this.registry.release(request.sessionId, request.scope.accountId) };
  }
}
