import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';

export interface HttpTestApp {
  app: NestExpressApplication;
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts an HTTP service's root module on a free port, configured as `main.ts` configures it. */
export async function startHttpApp(
  module: DynamicModule,
  configure: (app: NestExpressApplication) => void | Promise<void>,
): Promise<HttpTestApp> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    logger: false,
    bodyParser: false,
    abortOnError: false,
  });
  await configure(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}
