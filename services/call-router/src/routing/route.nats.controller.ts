import { Controller } from '@nestjs/common';
import { RouteCall, type RpcParsedRequestOf } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { CallProgressTranslator } from '../calls/call-progress-translator';
import { InboundCallDecider } from './inbound-call-decider';

/** A webhook is either a caller waiting for what to hear next, or a report on a call in progress. */
const DECISIONS: ReadonlySet<string> = new Set(['answer', 'pin', 'outbound-answer']);

@Controller()
export class RouteNatsController {
  constructor(
    private readonly decider: InboundCallDecider,
    private readonly progress: CallProgressTranslator,
  ) {}

  @RpcHandler(RouteCall)
  async route(request: RpcParsedRequestOf<typeof RouteCall>) {
    const actions = DECISIONS.has(request.stage)
      ? await this.decider.decide(request)
      : await this.progress.translate(request);
    return { actions };
  }
}
