import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import { AllocationNatsController } from './allocation/allocation.nats.controller';
import { AllocationService } from './allocation/allocation.service';
import { AllocationRepository } from './allocation/allocation.repository';
import { HoldMaintenance } from './allocation/hold-maintenance';
import { HoldRepository } from './allocation/hold.repository';
import { HoldReaper } from './allocation/hold-reaper';
import { HOLD_STORE } from './allocation/hold-store.token';
import { AllocationDocument, AllocationSchema, HoldDocument, HoldSchema } from './allocation/hold.schema';
import { MongoHoldStore } from './allocation/mongo-hold-store';
import type { NumberPoolConfig } from './config/number-pool.config';
import { NumberPoolRpcErrorFilter } from './errors/number-pool.rpc-error-filter';
import { CandidatePool } from './inventory/candidate-pool';
import { InventoryNatsController } from './inventory/inventory.nats.controller';
import { ProxyNumbersNatsController } from './inventory/proxy-numbers.nats.controller';
import { ProviderHoldingClient } from './inventory/provider-holding.client';
import { ProviderHoldingSweep } from './inventory/provider-holding-sweep';
import { ProxyNumbersService } from './inventory/proxy-numbers.service';
import { InventoryService } from './inventory/inventory.service';
import { InventoryAddTurns } from './inventory/inventory-add-turns';
import { VirtualNumberRepository } from './inventory/virtual-number.repository';
import { VirtualNumberDocument, VirtualNumberSchema } from './inventory/virtual-number.schema';
import { ProxyNumberClaimDocument, ProxyNumberClaimSchema } from './inventory/proxy-number-claim.schema';
import { ProxyNumberClaimRepository } from './inventory/proxy-number-claim.repository';
import { UtilizationNatsController } from './utilization/utilization.nats.controller';
import { UtilizationMetrics } from './utilization/utilization-metrics';
import { UtilizationService } from './utilization/utilization.service';
import { ExhaustionCounter } from './utilization/exhaustion-counter';
import { ExhaustionMinutes, UtilizationMinutes } from './utilization/utilization-history.repository';
import {
  ExhaustionMinuteDocument,
  ExhaustionMinuteSchema,
  UtilizationMinuteDocument,
  UtilizationMinuteSchema,
} from './utilization/utilization-minute.schema';
import { UtilizationRollup } from './utilization/utilization-rollup';

@Module({})
export class NumberPoolModule {
  static forRoot(config: NumberPoolConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: NumberPoolModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'number-pool',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: NumberPoolRpcErrorFilter,
          logger: options.logger,
        }),
        MongooseModule.forFeature([
          { name: VirtualNumberDocument.name, schema: VirtualNumberSchema },
          { name: ProxyNumberClaimDocument.name, schema: ProxyNumberClaimSchema },
          { name: HoldDocument.name, schema: HoldSchema },
          { name: AllocationDocument.name, schema: AllocationSchema },
          { name: UtilizationMinuteDocument.name, schema: UtilizationMinuteSchema },
          { name: ExhaustionMinuteDocument.name, schema: ExhaustionMinuteSchema },
        ]),
      ],
      controllers: [
        InventoryNatsController,
        ProxyNumbersNatsController,
        AllocationNatsController,
        UtilizationNatsController,
      ],
      providers: [
        ProxyNumbersService,
        ProxyNumberClaimRepository,
        VirtualNumberRepository,
        CandidatePool,
        InventoryService,
        InventoryAddTurns,
        ProviderHoldingClient,
        ProviderHoldingSweep,
        HoldRepository,
        AllocationRepository,
        { provide: HOLD_STORE, useClass: MongoHoldStore },
        HoldMaintenance,
        HoldReaper,
        AllocationService,
        UtilizationService,
        UtilizationMetrics,
        UtilizationMinutes,
        ExhaustionMinutes,
        ExhaustionCounter,
        UtilizationRollup,
      ],
    };
  }
}
