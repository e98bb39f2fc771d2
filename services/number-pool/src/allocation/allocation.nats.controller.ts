import { Controller } from '@nestjs/common';
import {
  AddSessionParty,
  AllocateVirtualNumber,
  ReleaseSessionNumber,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { AllocationService } from './allocation.service';

@Controller()
export class AllocationNatsController {
  constructor(private readonly allocations: AllocationService) {}

  @RpcHandler(AllocateVirtualNumber)
  allocate(request: Req<typeof AllocateVirtualNumber>) {
    return this.allocations.allocate(request);
  }

  @RpcHandler(AddSessionParty)
  addParty(request: Req<typeof AddSessionParty>) {
    return this.allocations.addParty(request.scope, request.sessionId, request.party);
  }

  @RpcHandler(ReleaseSessionNumber)
  async release(request: Req<typeof ReleaseSessionNumber>) {
    return { released: await this.allocations.release(request.scope, request.sessionId) };
  }
}
