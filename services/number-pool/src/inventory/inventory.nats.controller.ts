import { Controller } from '@nestjs/common';
import {
  AddVirtualNumbers,
  DeleteVirtualNumber,
  CodedError,
  GetNumberRouting,
  GetVirtualNumber,
  ListVirtualNumbers,
  UpdateVirtualNumber,
  type RpcParsedRequestOf as Req,
} from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { InventoryService } from './inventory.service';

@Controller()
export class InventoryNatsController {
  constructor(private readonly inventory: InventoryService) {}

  @RpcHandler(AddVirtualNumbers)
  async add(request: Req<typeof AddVirtualNumbers>) {
    return { added: await this.inventory.add(request) };
  }

  @RpcHandler(ListVirtualNumbers)
  list(request: Req<typeof ListVirtualNumbers>) {
    return this.inventory.list(request);
  }

  @RpcHandler(GetVirtualNumber)
  get(request: Req<typeof GetVirtualNumber>) {
    return this.inventory.get(request.scope, request.number);
  }

  @RpcHandler(UpdateVirtualNumber)
  update(request: Req<typeof UpdateVirtualNumber>) {
    return this.inventory.update(request);
  }

  /** For the gateway (webhook signatures) and the call router (number ownership). */
  @RpcHandler(GetNumberRouting)
  async routing(request: Req<typeof GetNumberRouting>) {
    const n = await this.inventory.routingOf(request.number);
    if (!n) throw CodedError.notFound(`number ${request.number} is not in any inventory`);
    return n;
  }

  @RpcHandler(DeleteVirtualNumber)
  async delete(request: Req<typeof DeleteVirtualNumber>) {
    await this.inventory.delete(request.scope, request.number);
    return { deleted: true };
  }
}
