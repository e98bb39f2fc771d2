import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ScopeResolver } from '../auth/scope-resolver';
import { CallbackUrlChecker } from './callback-url-checker';
import { CallbacksHttpController } from './callbacks.http.controller';
import { SessionsHttpController } from './sessions.http.controller';

@Module({
  imports: [AccountsModule],
  controllers: [CallbacksHttpController, SessionsHttpController],
  providers: [ScopeResolver, CallbackUrlChecker],
})
export class SessionsModule {}
