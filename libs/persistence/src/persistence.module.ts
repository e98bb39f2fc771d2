import { Global, Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { IndexSynchronizer } from './index-synchronizer';

export interface PersistenceOptions {
  /** MongoDB connection string. */
  uri: string;
  /** This service's own database: services never share collections. */
  dbName: string;
}

/** The mongoose connection for one service's database, with indexes built at boot. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        MongooseModule.forRoot(options.uri, {
          dbName: options.dbName,
          autoIndex: false,
          autoCreate: false,
          serverSelectionTimeoutMS: 5000,
          maxPoolSize: 20,
        }),
      ],
      providers: [IndexSynchronizer],
      exports: [MongooseModule],
    };
  }
}
