import { Controller } from '@nestjs/common';
import { GetPoolUtilization, type RpcParsedRequestOf } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { UtilizationService } from './utilization.service';

@Controller()
export class UtilizationNatsController {
  constructor(private readonly utilization: UtilizationService) {}

  @RpcHandler(GetPoolUtilization)
  get(request: RpcParsedRequestOf<typeof GetPoolUtilization>) {
    return this.utilization.forScope(request.scope);
  }
}
