import { Controller } from '@nestjs/common';
import { RouteCall, type RpcParsedRequestOf } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { CallDecider } from './call-decider';

@Controller()
export class RouteNatsController {
  constructor(private readonly decider: CallDecider) {}

  @RpcHandler(RouteCall)
  async route(request: RpcParsedRequestOf<typeof RouteCall>) {
    return { actions: await this.decider.decide(request) };
  }
}
