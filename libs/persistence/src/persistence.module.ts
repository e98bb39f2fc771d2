import { Global, Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { IndexSynchronizer } from './index-synchronizer';
import { recordStoreCommands } from './store-command-stats';

export interface PersistenceOptions {
  /** MongoDB connection string. */
  uri: string;
  /** This service's own database: services never share collections. */
  dbName: string;
  /** Where to write the totals of this process's store commands at exit (a benchmark diagnostic). */
  statsDir?: string;
  /** The longest one store command may take (client-side); 0 or absent: no limit. */
  commandTimeoutMs?: number;
}

/** The mongoose connection for one service's database, with indexes built at boot. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    const { statsDir } = options;
    return {
      module: PersistenceModule,
      imports: [
        MongooseModule.forRoot(options.uri, {
          dbName: options.dbName,
          autoIndex: false,
          autoCreate: false,
          serverSelectionTimeoutMS: 5000,
          maxPoolSize: 20,
          ...(options.commandTimeoutMs ? { timeoutMS: options.commandTimeoutMs } : {}),
          ...(statsDir
            ? {
                monitorCommands: true,
                connectionFactory: (connection: Connection) => {
                  recordStoreCommands(connection, statsDir, options.dbName);
                  return connection;
                },
              }
            : {}),
        }),
      ],
      providers: [IndexSynchronizer],
      exports: [MongooseModule],
    };
  }
}
