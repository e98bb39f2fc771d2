import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ScopeResolver } from '../auth/scope-resolver';
import { CallbackUrlChecker } from './callback-url-checker';
import { CallbacksHttpController } from './callbacks.http.controller';
import { RecordingUrls } from './recording-urls';
import { SessionsHttpController } from './sessions.http.controller';

@Module({
  imports: [AccountsModule],
  controllers: [CallbacksHttpController, SessionsHttpController],
  providers: [ScopeResolver, CallbackUrlChecker, RecordingUrls],
})
export class SessionsModule {}
