import { Controller } from '@nestjs/common';
import {
  CreateProxyService,
  DeleteProxyService,
  GetProxyService,
  GetProxyServicePolicy,
  ListProxyServices,
  UpdateProxyService,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { ProxyServicesService } from './proxy-services.service';

@Controller()
export class ProxyServicesNatsController {
  constructor(private readonly services: ProxyServicesService) {}

  @RpcHandler(CreateProxyService)
  create(request: Req<typeof CreateProxyService>) {
    return this.services.create(request);
  }

  @RpcHandler(GetProxyService)
  get(request: Req<typeof GetProxyService>) {
    return this.services.get(request.scope, request.service);
  }

  @RpcHandler(ListProxyServices)
  list(request: Req<typeof ListProxyServices>) {
    return this.services.list(request);
  }

  @RpcHandler(UpdateProxyService)
  update(request: Req<typeof UpdateProxyService>) {
    return this.services.update(request);
  }

  @RpcHandler(GetProxyServicePolicy)
  async policy(request: Req<typeof GetProxyServicePolicy>) {
    const scope = { accountId: request.accountId, subaccountId: request.subaccountId ?? undefined };
    const service = await this.services.get(scope, request.serviceSid);
    return {
      interceptCallbackUrl: service.interceptCallbackUrl,
      interceptFailClosed: service.interceptFailClosed,
      outOfSessionCallbackUrl: service.outOfSessionCallbackUrl,
    };
  }

  @RpcHandler(DeleteProxyService)
  async delete(request: Req<typeof DeleteProxyService>) {
    await this.services.delete(request.scope, request.service);
    return { deleted: true as const };
  }
}
