import { Global, Module, type DynamicModule, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DurableConsumerHost } from './durable-consumer.host';
import { EventPublisher } from './event-publisher';
import { EventRetention } from './event-retention';
import { HandlerDiscovery } from './handler-discovery';
import { HistoryReadAdmission } from './history-read-admission';
import { AccountPrivacy } from './account-privacy';
import { KeyValueStores } from './key-value-stores';
import { SweepTurns } from './sweep-turns';
import { MESSAGING_OPTIONS, NATS_CONNECTION, type MessagingOptions } from './messaging.options';
import { NatsConnectionCloser, natsConnectionProvider } from './nats-connection.provider';
import { RPC_ERROR_FILTER, RpcErrorFilter } from './rpc-error-filter';
import { RpcClient } from './rpc-client';
import { RpcServer } from './rpc-server';
import { StreamProvisioner } from './stream-provisioner';

export interface MessagingModuleOptions extends MessagingOptions {
  /** This service's error filter (one per service); the base filter if omitted. */
  errorFilter?: Type<RpcErrorFilter>;
}

/**
 * One NATS connection per process, the RPC server and client, the JetStream publisher and the
 * durable consumer host. Requires ObservabilityModule and ResilienceModule.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    const { errorFilter, ...messaging } = options;
    return {
      module: MessagingModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: messaging },
        natsConnectionProvider,
        NatsConnectionCloser,
        { provide: RPC_ERROR_FILTER, useClass: errorFilter ?? RpcErrorFilter },
        HandlerDiscovery,
        HistoryReadAdmission,
        StreamProvisioner,
        EventRetention,
        RpcServer,
        RpcClient,
        EventPublisher,
        DurableConsumerHost,
        KeyValueStores,
        AccountPrivacy,
        SweepTurns,
      ],
      exports: [
        NATS_CONNECTION,
        MESSAGING_OPTIONS,
        RpcServer,
        RpcClient,
        EventPublisher,
        EventRetention,
        KeyValueStores,
        AccountPrivacy,
        SweepTurns,
        RPC_ERROR_FILTER,
      ],
    };
  }
}
