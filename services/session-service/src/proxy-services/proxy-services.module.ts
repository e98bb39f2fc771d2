import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ProxyServiceNameRepository, ProxyServiceRepository } from './proxy-service.repository';
import {
  ProxyServiceDocument,
  ProxyServiceNameDocument,
  ProxyServiceNameSchema,
  ProxyServiceSchema,
} from './proxy-service.schema';
import { ProxyServicesNatsController } from './proxy-services.nats.controller';
import { ProxyServicesService } from './proxy-services.service';

/** Twilio Proxy's Services (the Twilio-compatible API's configuration objects). */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ProxyServiceDocument.name, schema: ProxyServiceSchema },
      { name: ProxyServiceNameDocument.name, schema: ProxyServiceNameSchema },
    ]),
  ],
  controllers: [ProxyServicesNatsController],
  providers: [ProxyServiceRepository, ProxyServiceNameRepository, ProxyServicesService],
  exports: [ProxyServicesService],
})
export class ProxyServicesModule {}
