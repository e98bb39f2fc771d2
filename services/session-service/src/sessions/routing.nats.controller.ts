import { Controller } from '@nestjs/common';
import {
  GetRoutingSession,
  GetRoutingSnapshot,
  GetSessionsOnNumber,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { routingView } from './routing-view';
import { hasNumber } from './session-announcer';
import { SessionRepository } from './session.repository';

/** What the call routers need to route calls: live sessions, by page, by number, one by id. */
@Controller()
export class RoutingNatsController {
  constructor(private readonly sessions: SessionRepository) {}

  @RpcHandler(GetRoutingSnapshot)
  async snapshot(request: Req<typeof GetRoutingSnapshot>) {
    const page = await this.sessions.activePageSystemWide(request.offset, request.limit + 1);
    // A Proxy session before its first participant has no number: nothing to route.
    const sessions = page.slice(0, request.limit).filter(hasNumber).map(routingView);
    return { sessions, more: page.length > request.limit };
  }

  @RpcHandler(GetSessionsOnNumber)
  async onNumber(request: Req<typeof GetSessionsOnNumber>) {
    return {
      sessions: (await this.sessions.activeOnNumberSystemWide(request.virtualNumber))
        .filter(hasNumber)
        .map(routingView),
    };
  }

  @RpcHandler(GetRoutingSession)
  async one(request: Req<typeof GetRoutingSession>) {
    const doc = await this.sessions.getByIdSystemWide(request.sessionId);
    // A tombstone of an abandoned creation is not a session.
    return { session: doc && !doc.abandoned && hasNumber(doc) ? routingView(doc) : null };
  }
}
