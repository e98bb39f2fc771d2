import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ConsoleSessionHttpController } from './console-session.http.controller';

/** The operator console's sign-in; its pages are static files (configure-http), its data the public API. */
@Module({
  imports: [AccountsModule],
  controllers: [ConsoleSessionHttpController],
})
export class ConsoleModule {}
