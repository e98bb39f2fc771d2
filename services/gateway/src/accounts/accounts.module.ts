import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AccountRateLimiter } from '../auth/account-rate-limiter';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { ConsoleSessions } from '../console/console-sessions';
import { AccountCredentials } from './account-credentials';
import { AccountRepository } from './account.repository';
import { Account, AccountSchema } from './account.schema';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKey, ApiKeySchema } from './api-key.schema';
import { ApiKeysHttpController } from './api-keys.http.controller';
import { ApiKeysService } from './api-keys.service';
import { AccountHttpController } from './account.http.controller';
import { AccountsAdminHttpController } from './accounts.admin.http.controller';
import { AccountsNatsController } from './accounts.nats.controller';
import { AccountsService } from './accounts.service';
import { SubaccountsHttpController } from './subaccounts.http.controller';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Account.name, schema: AccountSchema },
      { name: ApiKey.name, schema: ApiKeySchema },
    ]),
  ],
  controllers: [
    AccountsAdminHttpController,
    SubaccountsHttpController,
    AccountHttpController,
    ApiKeysHttpController,
    AccountsNatsController,
  ],
  providers: [
    AccountRepository,
    AccountCredentials,
    AccountsService,
    ApiKeyRepository,
    ApiKeysService,
    AccountRateLimiter,
    PlivoAuthGuard,
    ConsoleSessions,
  ],
  exports: [AccountsService, ApiKeysService, AccountRateLimiter, PlivoAuthGuard, ConsoleSessions],
})
export class AccountsModule {}
