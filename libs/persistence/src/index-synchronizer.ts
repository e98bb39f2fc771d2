import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { HealthRegistry, LOGGER } from '@maskline/observability';

/** Builds every registered model's indexes at boot; a failure stops the boot with the reason. */
@Injectable()
export class IndexSynchronizer implements OnModuleInit {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly health: HealthRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register('store', async () => {
      const db = this.connection.db;
      if (!db) return { status: 'down', detail: 'not connected' };
      await db.admin().ping();
      return { status: 'up' };
    });
    // An index build on a large collection may take longer than any one command is otherwise allowed.
    const unbounded = { timeoutMS: 0 } as Record<string, unknown>;
    for (const model of Object.values(this.connection.models)) {
      try {
        await model.createCollection(unbounded).catch((err: { codeName?: string; code?: number }) => {
          if (err?.codeName !== 'NamespaceExists' && err?.code !== 48) throw err;
        });
        await model.createIndexes(unbounded);
      } catch (err) {
        this.logger.fatal({ err, model: model.modelName }, 'could not build indexes');
        throw err;
      }
    }
    this.logger.info({ models: Object.keys(this.connection.models) }, 'store indexes ready');
  }
}
