import { bool, text } from '@maskline/contracts';
import { declareField } from '../http/declare-field';

/** Twilio's PhoneNumber parameters: which number (by SID or in E.164), and whether it is reserved. */
export class ProxyPhoneNumberParamsDto {
  Sid?: string;
  PhoneNumber?: string;
  IsReserved?: boolean;
}
declareField(ProxyPhoneNumberParamsDto, 'Sid', text(34, 34), {
  description: 'The number by its SID (PN…); or give PhoneNumber',
});
declareField(ProxyPhoneNumberParamsDto, 'PhoneNumber', text(2, 20), {
  description: 'The number in E.164 (one of the account’s numbers); or give Sid',
});
declareField(ProxyPhoneNumberParamsDto, 'IsReserved', bool, {
  description: 'Given only to sessions that name the number; never picked by the allocator',
  default: false,
});

/** An update takes only IsReserved. */
export class ProxyPhoneNumberUpdateDto {
  IsReserved?: boolean;
}
declareField(ProxyPhoneNumberUpdateDto, 'IsReserved', bool, {
  description: 'Given only to sessions that name the number; never picked by the allocator',
});
