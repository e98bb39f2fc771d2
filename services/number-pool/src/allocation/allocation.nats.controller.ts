import { Controller } from '@nestjs/common';
import {
  AddAllocationParty,
  AddSessionParty,
  AllocateNumber,
  AllocateVirtualNumber,
  ReleaseAllocation,
  ReleaseSessionNumber,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { AllocationService } from './allocation.service';

@Controller()
export class AllocationNatsController {
  constructor(private readonly allocations: AllocationService) {}

  @RpcHandler(AllocateNumber)
  allocate(request: Req<typeof AllocateNumber>) {
    return this.allocations.allocate(request);
  }

  @RpcHandler(AddAllocationParty)
  addParty(request: Req<typeof AddAllocationParty>) {
    return this.allocations.addParty(request.scope, request.allocationId, request.party);
  }

  @RpcHandler(ReleaseAllocation)
  async release(request: Req<typeof ReleaseAllocation>) {
    return { released: await this.allocations.release(request.scope, request.allocationId) };
  }

  // v1, for a session-service of the previous release: its `sessionId` is the allocation id.
  @RpcHandler(AllocateVirtualNumber)
  allocateV1({ sessionId, ...rest }: Req<typeof AllocateVirtualNumber>) {
    return this.allocations.allocate({ ...rest, allocationId: sessionId });
  }

  @RpcHandler(AddSessionParty)
  addPartyV1(request: Req<typeof AddSessionParty>) {
    return this.allocations.addParty(request.scope, request.sessionId, request.party);
  }

  @RpcHandler(ReleaseSessionNumber)
  async releaseV1(request: Req<typeof ReleaseSessionNumber>) {
    return { released: await this.allocations.release(request.scope, request.sessionId) };
  }
}
