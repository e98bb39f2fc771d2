import { accountSidOf } from '@maskline/contracts';
import type { ProxyNumber } from '@maskline/contracts';
import { numberSidOf } from './twilio-number-sid';
import { twilioDate } from './proxy-service.view';

/** Twilio's PhoneNumber resource of a Service. */
export function twilioPhoneNumberView(n: ProxyNumber, serviceSid: string, baseUrl: string) {
  const sid = numberSidOf(n.number);
  return {
    sid,
    account_sid: accountSidOf(n.subaccountId ?? n.accountId),
    service_sid: serviceSid,
    date_created: twilioDate(n.addedOn),
    date_updated: twilioDate(n.addedOn),
    phone_number: n.number,
    friendly_name: n.alias ?? n.number,
    iso_country: n.country,
    capabilities: {
      voice_inbound: n.voiceEnabled,
      voice_outbound: n.voiceEnabled,
      sms_inbound: n.smsEnabled,
      sms_outbound: n.smsEnabled,
      mms_inbound: n.smsEnabled,
      mms_outbound: n.smsEnabled,
      fax_inbound: false,
      fax_outbound: false,
    },
    url: `${baseUrl}/v1/Services/${serviceSid}/PhoneNumbers/${sid}`,
    is_reserved: n.isReserved,
    in_use: n.inUse,
  };
}
