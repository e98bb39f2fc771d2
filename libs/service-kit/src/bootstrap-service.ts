import type { Server } from 'node:http';
import type { DynamicModule, INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { ConfigValidationError, secretKeys, type ConfigSchema } from '@maskline/config';
import { LOGGER, PinoNestLogger } from '@maskline/observability';
import { HttpDrain } from './http-drain';
import { OpsServerHost } from './ops-server.host';

export interface BootstrapOptions {
  service: string;
  /** The service's config schema: `--print-config` prints the variables it reads (for manifests and docs). */
  configSchema: ConfigSchema;
  /** Builds the root module; config errors thrown here are printed and end the process with code 78. */
  module: () => DynamicModule;
  /** For the gateway: an HTTP server on this port, configured before listening. */
  http?: {
    port: number;
    host?: string;
    configure?: (app: NestExpressApplication) => Promise<void> | void;
    /** On SIGTERM: how long to keep serving after readiness turns false, and to wait for requests in flight. */
    drain?: { delayMs: number; graceMs: number };
  };
}

/**
 * Starts a service: builds the Nest application, starts NATS handlers and consumers, marks the
 * service ready, and on SIGTERM/SIGINT drains NATS subscriptions and in-flight work before exiting.
 */
export async function bootstrapService(
  options: BootstrapOptions,
): Promise<INestApplicationContext | undefined> {
  try {
    return await start(options);
  } catch (err) {
    // One structured line saying why, then a non-zero exit (the orchestrator restarts the service).
    const e = err as { message?: string; code?: string; name?: string };
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: options.service, msg: 'startup failed', err: { type: e?.name, message: e?.message, code: e?.code } })}\n`,
    );
    process.exit(1);
  }
}

async function start(options: BootstrapOptions): Promise<INestApplicationContext | undefined> {
  // A promise nobody awaited that failed (in a library's background work, say): say what and where
  // in one structured line before the process ends, as an unhandled rejection ends it anyway.
  process.once('unhandledRejection', (reason) => {
    const e = reason as { message?: string; code?: string; name?: string; stack?: string };
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: options.service, msg: 'unhandled rejection', err: { type: e?.name, message: e?.message, code: e?.code, stack: e?.stack } })}\n`,
    );
    process.exit(1);
  });
  if (process.argv.includes('--print-config')) {
    const shape =
      'shape' in options.configSchema ? options.configSchema.shape : options.configSchema.innerType().shape;
    process.stdout.write(
      `${JSON.stringify({ service: options.service, variables: Object.keys(shape), secrets: secretKeys(options.configSchema) })}\n`,
    );
    return undefined;
  }
  let root: DynamicModule;
  try {
    root = options.module();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }

  let app: INestApplicationContext;
  let drain: HttpDrain | undefined;
  if (options.http) {
    const httpApp = await NestFactory.create<NestExpressApplication>(root, {
      bufferLogs: true,
      bodyParser: false,
    });
    httpApp.useLogger(new PinoNestLogger(httpApp.get<Logger>(LOGGER)));
    await options.http.configure?.(httpApp);
    drain = new HttpDrain(httpApp.getHttpServer() as Server);
    await httpApp.listen(options.http.port, options.http.host ?? '0.0.0.0');
    app = httpApp;
  } else {
    app = await NestFactory.createApplicationContext(root, { bufferLogs: true });
    app.useLogger(new PinoNestLogger(app.get<Logger>(LOGGER)));
    await app.init();
  }
  const logger = app.get<Logger>(LOGGER);
  const ops = app.get(OpsServerHost);
  ops.markReady(true);
  logger.info(
    { opsPort: ops.port, httpPort: options.http ? httpPort(app as INestApplication) : undefined },
    `${options.service} ready`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    ops.markReady(false);
    logger.info({ signal }, 'shutting down: draining NATS subscriptions and in-flight work');
    // HTTP first: balancers see readiness false and move away while this replica still answers;
    // then no new connections, the requests in flight answered; only then NATS and the store close.
    const http = options.http;
    const httpDrained =
      drain && http?.drain
        ? drain.drain(http.drain).then((left) => {
            if (left > 0) logger.warn({ left }, 'shutdown grace elapsed with HTTP requests still in flight');
            else logger.info('HTTP drained: every request in flight was answered');
          })
        : Promise.resolve();
    httpDrained
      .then(() => app.close())
      .then(() => {
        logger.info('stopped');
        logger.flush?.();
        setTimeout(() => process.exit(0), 50).unref();
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return app;
}

function httpPort(app: INestApplication): number | undefined {
  const address = app.getHttpServer().address() as { port?: number } | null;
  return address?.port;
}
