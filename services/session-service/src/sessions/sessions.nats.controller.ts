import { Controller } from '@nestjs/common';
import {
  CodedError,
  ErrorCodes,
  CreateSession,
  ExpireSession,
  GetCallbackTarget,
  callbackTargetOf,
  GetSession,
  ListSessions,
  UpdateSession,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { SessionCreator } from '../saga/session-creator';
import { SessionRepository } from './session.repository';
import { ProxyServicesService } from '../proxy-services/proxy-services.service';
import { hasNumber } from './session-announcer';
import { SessionsService } from './sessions.service';

@Controller()
export class SessionsNatsController {
  constructor(
    private readonly creator: SessionCreator,
    private readonly sessions: SessionsService,
    private readonly repository: SessionRepository,
    private readonly proxyServices: ProxyServicesService,
  ) {}

  /** Where the callback dispatcher delivers this session's events. */
  @RpcHandler(GetCallbackTarget)
  async callbackTarget(request: Req<typeof GetCallbackTarget>) {
    const doc = await this.repository.get({ accountId: request.accountId }, request.sessionId);
    if (!doc || !hasNumber(doc)) throw CodedError.notFound(`session ${request.sessionId} not found`);
    if (!doc.proxy) return callbackTargetOf(doc);
    // A Proxy session's: its Service's callback_url as it is now (none once the Service is gone).
    const service = await this.proxyServices
      .get({ accountId: doc.accountId, subaccountId: doc.subaccountId ?? undefined }, doc.proxy.serviceSid)
      .catch((err: unknown) => {
        if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) return null;
        throw err;
      });
    return {
      ...callbackTargetOf(doc),
      callbackUrl: service?.callbackUrl ?? null,
      callbackMethod: 'POST' as const,
      recordingCallbackUrl: null,
      proxyServiceSid: doc.proxy.serviceSid,
    };
  }

  @RpcHandler(CreateSession)
  create(request: Req<typeof CreateSession>) {
    return this.creator.create(request);
  }

  @RpcHandler(GetSession)
  get(request: Req<typeof GetSession>) {
    return this.sessions.get(request.scope, request.sessionId);
  }

  @RpcHandler(ListSessions)
  list(request: Req<typeof ListSessions>) {
    return this.sessions.list(request);
  }

  @RpcHandler(UpdateSession)
  update(request: Req<typeof UpdateSession>) {
    return this.sessions.update(request);
  }

  @RpcHandler(ExpireSession)
  async expire(request: Req<typeof ExpireSession>) {
    await this.sessions.expire(request.scope, request.sessionId);
    return { expired: true as const };
  }
}
