import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ScopeResolver } from '../auth/scope-resolver';
import { NumbersHttpController } from './numbers.http.controller';
import { UtilizationHttpController } from './utilization.http.controller';

@Module({
  imports: [AccountsModule],
  controllers: [NumbersHttpController, UtilizationHttpController],
  providers: [ScopeResolver],
})
export class NumbersModule {}
