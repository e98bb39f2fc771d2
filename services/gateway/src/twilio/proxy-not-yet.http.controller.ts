import { All, Controller, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CodedError } from '@maskline/contracts';
import { TwilioAuthGuard } from '../auth/twilio-auth.guard';

/**
 * Proxy resources Maskline does not serve yet (Sessions and what hangs off them): a 404 that says
 * so, instead of one that looks like a wrong SID. Authenticated first, as every Proxy call.
 */
@ApiExcludeController()
@UseGuards(TwilioAuthGuard)
@Controller('v1/Services/:service')
export class ProxyNotYetHttpController {
  @All(['Sessions', 'Sessions/*'])
  notYet(): never {
    throw CodedError.notFound(
      'Sessions, Participants and Interactions are not served yet by this Maskline: Services and PhoneNumbers are (see docs/twilio-proxy.md)',
    );
  }
}
