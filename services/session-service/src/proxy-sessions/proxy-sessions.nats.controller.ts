import { Controller } from '@nestjs/common';
import {
  CloseProxyServiceSessions,
  CreateProxyParticipant,
  CreateProxySession,
  DeleteProxyInteraction,
  DeleteProxySession,
  GetProxyParticipant,
  GetProxySession,
  ListProxyInteractions,
  ListProxyParticipants,
  ListProxySessions,
  PrepareProxyMessage,
  UpdateProxySession,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { ProxySessionsService } from './proxy-sessions.service';

@Controller()
export class ProxySessionsNatsController {
  constructor(private readonly sessions: ProxySessionsService) {}

  @RpcHandler(CreateProxySession)
  create(request: Req<typeof CreateProxySession>) {
    return this.sessions.create(request);
  }

  @RpcHandler(GetProxySession)
  get(request: Req<typeof GetProxySession>) {
    return this.sessions.get(request.scope, request.service, request.session);
  }

  @RpcHandler(ListProxySessions)
  list(request: Req<typeof ListProxySessions>) {
    return this.sessions.list(request);
  }

  @RpcHandler(UpdateProxySession)
  update(request: Req<typeof UpdateProxySession>) {
    return this.sessions.update(request);
  }

  @RpcHandler(DeleteProxySession)
  async delete(request: Req<typeof DeleteProxySession>) {
    await this.sessions.delete(request.scope, request.service, request.session);
    return { deleted: true as const };
  }

  @RpcHandler(CloseProxyServiceSessions)
  async closeService(request: Req<typeof CloseProxyServiceSessions>) {
    return { closed: await this.sessions.closeAllOf(request.scope, request.serviceSid) };
  }

  @RpcHandler(CreateProxyParticipant)
  addParticipant(request: Req<typeof CreateProxyParticipant>) {
    return this.sessions.addParticipant(request);
  }

  @RpcHandler(ListProxyParticipants)
  async participants(request: Req<typeof ListProxyParticipants>) {
    return {
      participants: await this.sessions.participantsOf(request.scope, request.service, request.session),
    };
  }

  @RpcHandler(GetProxyParticipant)
  participant(request: Req<typeof GetProxyParticipant>) {
    return this.sessions.participant(request.scope, request.service, request.session, request.participantSid);
  }

  @RpcHandler(PrepareProxyMessage)
  prepareMessage(request: Req<typeof PrepareProxyMessage>) {
    return this.sessions.prepareMessage(request);
  }

  @RpcHandler(DeleteProxyInteraction)
  async deleteInteraction(request: Req<typeof DeleteProxyInteraction>) {
    await this.sessions.deleteInteraction(request);
    return { deleted: true as const };
  }

  @RpcHandler(ListProxyInteractions)
  interactions(request: Req<typeof ListProxyInteractions>) {
    return this.sessions.interactions(request);
  }
}
