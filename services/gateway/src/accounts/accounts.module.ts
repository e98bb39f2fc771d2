import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AccountRateLimiter } from '../auth/account-rate-limiter';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { AccountCredentials } from './account-credentials';
import { AccountRepository } from './account.repository';
import { Account, AccountSchema } from './account.schema';
import { AccountHttpController } from './account.http.controller';
import { AccountsAdminHttpController } from './accounts.admin.http.controller';
import { AccountsNatsController } from './accounts.nats.controller';
import { AccountsService } from './accounts.service';
import { SubaccountsHttpController } from './subaccounts.http.controller';

@Module({
  imports: [MongooseModule.forFeature([{ name: Account.name, schema: AccountSchema }])],
  controllers: [
    AccountsAdminHttpController,
    SubaccountsHttpController,
    AccountHttpController,
    AccountsNatsController,
  ],
  providers: [AccountRepository, AccountCredentials, AccountsService, AccountRateLimiter, PlivoAuthGuard],
  exports: [AccountsService, AccountRateLimiter, PlivoAuthGuard],
})
export class AccountsModule {}
