import { Module, type DynamicModule, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { connect, type NatsConnection } from 'nats';
import {
  CodedError,
  rpcEnvelopeSchema,
  type RpcContract,
  type ServiceName,
  type RpcReplyOf,
  type RpcRequestOf,
} from '@maskline/contracts';
import { decodeJson, encodeJson } from '@maskline/messaging';
import { CLOCK, ServiceKitModule, type Clock, type ServiceKitOptions } from '@maskline/service-kit';
import type { CommonServiceConfig } from '@maskline/config';
import { testServiceConfig } from './test-config';
import { startTestNats, type RunningProcess } from './test-infra';

export interface ServiceAppOptions {
  /** The service's clock (CLOCK), for tests that move time on instead of waiting it out. */
  clock?: Clock;
}

/** Starts a service's root module in this process, as `main.ts` would (minus signals). */
export async function startServiceApp(
  module: DynamicModule,
  options: ServiceAppOptions = {},
): Promise<INestApplicationContext> {
  if (!options.clock) {
    const app = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
    await app.init();
    return app;
  }
  const testing = await Test.createTestingModule({ imports: [module] })
    .setLogger(silentLogger)
    .overrideProvider(CLOCK)
    .useValue(options.clock)
    .compile();
  await testing.init();
  return testing;
}

const silentLogger = { log() {}, error() {}, warn() {}, debug() {}, verbose() {} };

/**
 * A bare NATS client for tests: asks a service over its contract like another service would,
 * returning the reply or throwing the `CodedError` it answered with.
 */
export class TestNatsClient {
  private constructor(readonly nc: NatsConnection) {}

  static async connect(url: string): Promise<TestNatsClient> {
    return new TestNatsClient(await connect({ servers: url, name: 'test-client' }));
  }

  async request<C extends RpcContract>(
    contract: C,
    payload: RpcRequestOf<C>,
    timeoutMs = 5000,
  ): Promise<RpcReplyOf<C>> {
    const msg = await this.nc.request(contract.subject, encodeJson(payload), { timeout: timeoutMs });
    const envelope = rpcEnvelopeSchema.parse(decodeJson(msg.data));
    if (!envelope.ok) throw CodedError.fromWire(envelope.error);
    return contract.reply.parse(envelope.data) as RpcReplyOf<C>;
  }

  /** Sends raw bytes (for malformed-message tests) and returns the decoded envelope. */
  async requestRaw(subject: string, body: Uint8Array, timeoutMs = 5000): Promise<unknown> {
    const msg = await this.nc.request(subject, body, { timeout: timeoutMs });
    return decodeJson(msg.data);
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

/**
 * Starts `providers` on a service's kit (its NATS connection, KV stores, durable consumers, RPC) at
 * the NATS server `natsUrl`, in this process: a lib's mechanism under test, on the real server. With
 * `errorFilter`, the service's reading of its errors (a store's, say).
 */
export function startKitApp(
  natsUrl: string,
  providers: Provider[],
  service: ServiceName,
  overrides: Partial<CommonServiceConfig> = {},
  errorFilter?: ServiceKitOptions['errorFilter'],
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ServiceKitModule.forRoot({ service, config: testServiceConfig(natsUrl, overrides), errorFilter }),
    ],
    providers,
  })
  class KitAppModule {}
  return startServiceApp({ module: KitAppModule });
}

/** What `kitAppForSuite` runs for a suite: its NATS server, a client connection, and the kit app. */
export interface KitAppSuite {
  readonly nats: RunningProcess;
  readonly nc: NatsConnection;
  readonly app: INestApplicationContext;
}

/**
 * `startKitApp` on a NATS server of the suite's own, for a whole jest suite (a describe block), with a
 * client connection to it: started before its tests, stopped after them. Its fields are for the tests
 * (not while the suite is being defined).
 */
export function kitAppForSuite(providers: Provider[], service: ServiceName): KitAppSuite {
  let started: { nats: RunningProcess; nc?: NatsConnection; app?: INestApplicationContext } | undefined;
  beforeAll(async () => {
    started = { nats: await startTestNats() };
    started.nc = await connect({ servers: started.nats.url });
    started.app = await startKitApp(started.nats.url, providers, service);
  });
  afterAll(async () => {
    await started?.app?.close();
    await started?.nc?.close();
    await started?.nats.stop();
  });
  const running = () => {
    if (!started?.nc || !started.app) throw new Error('the suite’s app starts before its tests');
    return started as Required<typeof started>;
  };
  return {
    get nats() {
      return running().nats;
    },
    get nc() {
      return running().nc;
    },
    get app() {
      return running().app;
    },
  };
}
