import { Controller } from '@nestjs/common';
import {
  GetRoutingSession,
  GetRoutingSnapshot,
  GetRoutingSnapshotByOffset,
  GetSessionsOnNumber,
  GetSessionsOnNumberWhole,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler, jsonBytes, pageWithinReplyBudget } from '@maskline/messaging';
import { routingView } from './routing-view';
import { hasNumber } from './session-announcer';
import type { SessionDocument } from './session.schema';
import { SessionRepository } from './session.repository';

/** Sessions a page of the sessions on one number reads from the store at most (fewer if they do not fit a reply). */
const ON_NUMBER_PAGE = 500;

/** What the call routers need to route calls: live sessions, by page, by number, one by id. */
@Controller()
export class RoutingNatsController {
  constructor(private readonly sessions: SessionRepository) {}

  @RpcHandler(GetRoutingSnapshot)
  async snapshot(request: Req<typeof GetRoutingSnapshot>) {
    const read = await this.sessions.activePageSystemWide({ after: request.after }, request.limit + 1);
    return routingPage(read, request.limit, request.after);
  }

  /** An earlier release's router, by offset (a rolling upgrade). */
  @RpcHandler(GetRoutingSnapshotByOffset)
  async snapshotByOffset(request: Req<typeof GetRoutingSnapshotByOffset>) {
    const page = await this.sessions.activePageSystemWide({ offset: request.offset }, request.limit + 1);
    return routable(page.slice(0, request.limit), page.length > request.limit);
  }

  @RpcHandler(GetSessionsOnNumber)
  async onNumber(request: Req<typeof GetSessionsOnNumber>) {
    const read = await this.sessions.activeOnNumberSystemWide(request.virtualNumber, {
      after: request.after,
      limit: ON_NUMBER_PAGE + 1,
    });
    return routingPage(read, ON_NUMBER_PAGE, request.after);
  }

  /** An earlier release's router, whole (a rolling upgrade). */
  @RpcHandler(GetSessionsOnNumberWhole)
  async onNumberWhole(request: Req<typeof GetSessionsOnNumberWhole>) {
    return routable(await this.sessions.activeOnNumberSystemWide(request.virtualNumber), false);
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

/**
 * A page of what was read (`limit`, and one more to tell whether more follow), as much of it as fits
 * a reply: `next` is the last session the page looked at (one without a number is looked at, not
 * given), and `more` says a page follows, because more were read or not all of them fitted.
 */
function routingPage(read: SessionDocument[], limit: number, after: string | null) {
  const looked = read.slice(0, limit).map((doc) => ({ doc, view: hasNumber(doc) ? routingView(doc) : null }));
  const given = pageWithinReplyBudget(looked, ({ view }) => (view ? jsonBytes(view) : 0));
  return {
    sessions: given.flatMap(({ view }) => (view ? [view] : [])),
    more: given.length < looked.length || read.length > limit,
    next: given.at(-1)?.doc._id ?? after,
  };
}
