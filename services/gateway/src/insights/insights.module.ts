import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ScopeResolver } from '../auth/scope-resolver';
import { InsightsHttpController } from './insights.http.controller';

/** The read endpoints the console needs beyond Plivo's API (see docs/console.md). */
@Module({
  imports: [AccountsModule],
  controllers: [InsightsHttpController],
  providers: [ScopeResolver],
})
export class InsightsModule {}
