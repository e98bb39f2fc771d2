import { Controller } from '@nestjs/common';
import {
  AssignProxyNumber,
  GetProxyNumber,
  ListProxyNumbers,
  UnassignProxyNumber,
  UnassignServiceNumbers,
  UpdateProxyNumber,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { ProxyNumbersService } from './proxy-numbers.service';

@Controller()
export class ProxyNumbersNatsController {
  constructor(private readonly numbers: ProxyNumbersService) {}

  @RpcHandler(AssignProxyNumber)
  assign(request: Req<typeof AssignProxyNumber>) {
    return this.numbers.assign(request);
  }

  @RpcHandler(GetProxyNumber)
  get(request: Req<typeof GetProxyNumber>) {
    return this.numbers.get(request.scope, request.serviceSid, request.number);
  }

  @RpcHandler(ListProxyNumbers)
  list(request: Req<typeof ListProxyNumbers>) {
    return this.numbers.list(request);
  }

  @RpcHandler(UpdateProxyNumber)
  update(request: Req<typeof UpdateProxyNumber>) {
    return this.numbers.setReserved(request.scope, request.serviceSid, request.number, request.isReserved);
  }

  @RpcHandler(UnassignProxyNumber)
  async unassign(request: Req<typeof UnassignProxyNumber>) {
    await this.numbers.unassign(request.scope, request.serviceSid, request.number);
    return { removed: true as const };
  }

  @RpcHandler(UnassignServiceNumbers)
  async unassignAll(request: Req<typeof UnassignServiceNumbers>) {
    return { removed: await this.numbers.unassignAll(request.scope, request.serviceSid) };
  }
}
