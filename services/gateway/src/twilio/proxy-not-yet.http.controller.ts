import { All, Controller, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CodedError } from '@maskline/contracts';
import { TwilioAuthGuard } from '../auth/twilio-auth.guard';

/**
 * Proxy resources Maskline does not serve yet (MessageInteractions): a 404 that says so, instead
 * of one that looks like a wrong SID. Authenticated first, as every Proxy call.
 */
@ApiExcludeController()
@UseGuards(TwilioAuthGuard)
@Controller('v1/Services/:service/Sessions/:session/Participants/:participant')
export class ProxyNotYetHttpController {
  @All(['MessageInteractions', 'MessageInteractions/*'])
  notYet(): never {
    throw CodedError.notFound(
      'MessageInteractions are not served yet by this Maskline: Services, PhoneNumbers, Sessions, Participants and Interactions are (see docs/twilio-proxy.md)',
    );
  }
}
