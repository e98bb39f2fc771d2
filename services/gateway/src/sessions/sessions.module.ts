import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ScopeResolver } from '../auth/scope-resolver';
import { SessionsHttpController } from './sessions.http.controller';

@Module({
  imports: [AccountsModule],
  controllers: [SessionsHttpController],
  providers: [ScopeResolver],
})
export class SessionsModule {}
