import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { NumberRoutingCache } from '@maskline/messaging';
import { ServiceKitModule } from '@maskline/service-kit';
import { CallEvents } from './calls/call-events';
import { CallState } from './calls/call-state';
import type { CallRouterConfig } from './config/call-router.config';
import { CallRouterRpcErrorFilter } from './errors/call-router.rpc-error-filter';
import { OutboundCaller } from './outbound/outbound-caller';
import { FallbackGate, MessageRelayClaims } from './messages/message-relay-claims';
import { TextedNumbers } from './messages/texted-numbers';
import { PendingAutoCreates } from './messages/pending-auto-creates';
import { OutOfSessionTexts } from './messages/out-of-session-texts';
import { MessageRelayConsumer } from './messages/message-relay.consumer';
import { HeldLookPacer } from './messages/held-look-pacer';
import { ProviderMessageSender } from './messages/provider-message-sender';
import { ProxyCallbacks } from './proxy/proxy-callbacks';
import { ProxyInterceptor } from './proxy/proxy-interceptor';
import { ProxyOutOfSession } from './proxy/proxy-out-of-session';
import { CallProgressTranslator } from './calls/call-progress-translator';
import { InboundCallDecider } from './routing/inbound-call-decider';
import { RouteNatsController } from './routing/route.nats.controller';
import { RoutingIndex } from './routing/routing-index';
import { RoutingIndexFeeder } from './routing/routing-index.feeder';
import { OwnNumbers } from './routing/own-numbers';
import { SessionFinder } from './routing/session-finder';

/** Decides what happens on each call, and relays the parties' text messages. Keeps no database: its state is an index in memory and call context in NATS KV. */
@Module({})
export class CallRouterModule {
  static forRoot(config: CallRouterConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: CallRouterModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'call-router',
          config,
          errorFilter: CallRouterRpcErrorFilter,
          logger: options.logger,
        }),
      ],
      controllers: [RouteNatsController],
      providers: [
        RoutingIndex,
        RoutingIndexFeeder,
        SessionFinder,
        OwnNumbers,
        CallState,
        CallEvents,
        InboundCallDecider,
        CallProgressTranslator,
        OutboundCaller,
        NumberRoutingCache,
        MessageRelayClaims,
        PendingAutoCreates,
        OutOfSessionTexts,
        FallbackGate,
        TextedNumbers,
        ProviderMessageSender,
        ProxyCallbacks,
        ProxyInterceptor,
        ProxyOutOfSession,
        // One schedule of held-back looks per replica (HeldLookPacer).
        { provide: HeldLookPacer, useFactory: () => new HeldLookPacer() },
        MessageRelayConsumer,
      ],
    };
  }
}
