import { Controller } from '@nestjs/common';
import {
  GetRoutingSession,
  GetRoutingSnapshot,
  GetRoutingSnapshotByOffset,
  GetSessionsOnNumber,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { routingView } from './routing-view';
import { hasNumber } from './session-announcer';
import type { SessionDocument } from './session.schema';
import { SessionRepository } from './session.repository';

/** What the call routers need to route calls: live sessions, by page, by number, one by id. */
@Controller()
export class RoutingNatsController {
  constructor(private readonly sessions: SessionRepository) {}

  @RpcHandler(GetRoutingSnapshot)
  async snapshot(request: Req<typeof GetRoutingSnapshot>) {
    const page = await this.sessions.activePageSystemWide({ after: request.after }, request.limit + 1);
    const looked = page.slice(0, request.limit);
    return { ...routable(looked, page.length > request.limit), next: looked.at(-1)?._id ?? request.after };
  }

  /** An earlier release's router, by offset (a rolling upgrade). */
  @RpcHandler(GetRoutingSnapshotByOffset)
  async snapshotByOffset(request: Req<typeof GetRoutingSnapshotByOffset>) {
    const page = await this.sessions.activePageSystemWide({ offset: request.offset }, request.limit + 1);
    return routable(page.slice(0, request.limit), page.length > request.limit);
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

/** A page's sessions as routing sees them: a Proxy session before its first participant has no number, nothing to route. */
function routable(docs: SessionDocument[], more: boolean) {
  return { sessions: docs.filter(hasNumber).map(routingView), more };
}
