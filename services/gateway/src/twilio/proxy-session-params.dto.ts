import { Allow } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  CodedError,
  canonicalNumber,
  bool,
  e164Schema,
  isoTimeSchema,
  proxySessionFieldEntries,
  text,
  type ParticipantRequest,
  type ProxySessionFieldKey,
} from '@maskline/contracts';
import { declareField } from '../http/declare-field';
import { numberOfSid } from './twilio-number-sid';

/** Twilio's flag against participant races (Maskline always refuses them): accepted and ignored. */
const FAIL_ON_CONFLICT = 'FailOnParticipantConflict';

/**
 * A Session's parameters as Twilio's API names them, declared from `PROXY_SESSION_FIELDS`, with
 * `DateExpiry` (an ISO 8601 time) and, at create, `Participants` (each a JSON object, the form
 * key repeated).
 */
export class ProxySessionParamsDto {
  [param: string]: unknown;
}
export class ProxySessionUpdateDto {
  [param: string]: unknown;
}

for (const [, field] of proxySessionFieldEntries) {
  declareField(ProxySessionParamsDto, field.param, field.kind, { description: field.description });
  if (field.updatable) {
    declareField(ProxySessionUpdateDto, field.param, field.kind, { description: field.description });
  }
}
for (const dto of [ProxySessionParamsDto, ProxySessionUpdateDto]) {
  declareField(dto, 'DateExpiry', text(1, 64), {
    description: 'ISO 8601 time the Session ends; it overrides Ttl',
  });
  declareField(dto, FAIL_ON_CONFLICT, bool, {
    description: 'Accepted and ignored: Maskline always refuses a participant that would conflict',
  });
}
ApiPropertyOptional({
  description: 'Up to 2 participants, each a JSON object with Identifier, FriendlyName, ProxyIdentifier',
  type: [String],
})(ProxySessionParamsDto.prototype, 'Participants');
Allow()(ProxySessionParamsDto.prototype, 'Participants');

/** Twilio's Participant parameters. */
export class ProxyParticipantParamsDto {
  Identifier?: string;
  FriendlyName?: string;
  ProxyIdentifier?: string;
  ProxyIdentifierSid?: string;
  [FAIL_ON_CONFLICT]?: boolean;
}
declareField(ProxyParticipantParamsDto, 'Identifier', text(1, 32), {
  description: 'The participant’s own phone number, E.164 (required)',
});
declareField(ProxyParticipantParamsDto, 'FriendlyName', text(1, 255), {
  description: 'A name of your own for the participant (no personal data, please)',
});
declareField(ProxyParticipantParamsDto, 'ProxyIdentifier', text(2, 20), {
  description: 'The proxy number to give the participant (one of the Service’s; a reserved one may be named)',
});
declareField(ProxyParticipantParamsDto, 'ProxyIdentifierSid', text(34, 34), {
  description: 'The proxy number by its SID (PN…), in place of ProxyIdentifier',
});
declareField(ProxyParticipantParamsDto, FAIL_ON_CONFLICT, bool, {
  description: 'Accepted and ignored: Maskline always refuses a participant that would conflict',
});

/** The session settings a request gives, keyed as the contract keys them. */
export function proxySessionSettingsOf(
  body: Record<string, unknown>,
): Partial<Record<ProxySessionFieldKey, unknown>> {
  const settings: Partial<Record<ProxySessionFieldKey, unknown>> = {};
  for (const [key, field] of proxySessionFieldEntries) {
    if (body[field.param] !== undefined) settings[key] = body[field.param];
  }
  return settings;
}

/** `DateExpiry` as an ISO time, when given. */
export function dateExpiryOf(body: Record<string, unknown>): string | undefined {
  const raw = body.DateExpiry;
  if (raw === undefined || raw === '') return undefined;
  // ISO 8601 with its offset, and a day the calendar has: never a guess by the server's time zone,
  // nor 30 February rolled over to March.
  const at = typeof raw === 'string' && isoTimeSchema.safeParse(raw).success ? new Date(raw) : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw CodedError.validation(
      'DateExpiry',
      'DateExpiry must be an ISO 8601 date and time, such as 2030-01-31T12:00:00Z',
    );
  }
  return at.toISOString();
}

/** The participants of a create: the repeated `Participants` form key, each a JSON object. */
export function participantsOf(raw: unknown): ParticipantRequest[] {
  if (raw === undefined) return [];
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.length > 2) {
    throw CodedError.validation('Participants', 'A Session may have at most 2 participants');
  }
  return items.map((item, i) => {
    const field = `Participants[${i}]`;
    let value: unknown = item;
    if (typeof item === 'string') {
      try {
        value = JSON.parse(item);
      } catch {
        throw CodedError.validation(
          field,
          `${field} must be a JSON object such as {"Identifier":"+14155550100"}`,
        );
      }
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw CodedError.validation(
        field,
        `${field} must be a JSON object such as {"Identifier":"+14155550100"}`,
      );
    }
    const o = value as Record<string, unknown>;
    const pick = (...names: string[]) => names.map((n) => o[n]).find((v) => v !== undefined);
    const known = new Set([
      'Identifier',
      'identifier',
      'FriendlyName',
      'friendlyName',
      'friendly_name',
      'ProxyIdentifier',
      'proxyIdentifier',
      'proxy_identifier',
      'ProxyIdentifierSid',
      'proxyIdentifierSid',
      'proxy_identifier_sid',
    ]);
    const extra = Object.keys(o).find((k) => !known.has(k));
    if (extra) throw CodedError.validation(field, `${field}: unknown key ${extra.slice(0, 64)}`);
    return participantRequestOf(
      {
        identifier: pick('Identifier', 'identifier'),
        friendlyName: pick('FriendlyName', 'friendlyName', 'friendly_name'),
        proxyIdentifier: pick('ProxyIdentifier', 'proxyIdentifier', 'proxy_identifier'),
        proxyIdentifierSid: pick('ProxyIdentifierSid', 'proxyIdentifierSid', 'proxy_identifier_sid'),
      },
      `${field}.`,
    );
  });
}

/** A participant as the contract takes it, from Twilio's parameters; each problem names its parameter. */
export function participantRequestOf(
  p: { identifier: unknown; friendlyName?: unknown; proxyIdentifier?: unknown; proxyIdentifierSid?: unknown },
  prefix = '',
): ParticipantRequest {
  const e164 = (value: unknown, name: string) => {
    const v = typeof value === 'string' ? value.trim() : value;
    if (!e164Schema.safeParse(v).success) {
      throw CodedError.validation(
        `${prefix}${name}`,
        `${prefix}${name} must be an E.164 number such as +14155550100`,
      );
    }
    return v as string;
  };
  if (p.identifier === undefined || p.identifier === '') {
    throw CodedError.validation(`${prefix}Identifier`, `${prefix}Identifier is required`);
  }
  // Canonical, as Plivo's parties are: refused as one of the account's own numbers, found in a
  // session by the number that calls, whichever way it was written.
  const identifier = canonicalNumber(e164(p.identifier, 'Identifier'));
  if (p.friendlyName !== undefined && (typeof p.friendlyName !== 'string' || p.friendlyName.length > 255)) {
    throw CodedError.validation(
      `${prefix}FriendlyName`,
      `${prefix}FriendlyName must be a string of at most 255 characters`,
    );
  }
  if (p.proxyIdentifier !== undefined && p.proxyIdentifierSid !== undefined) {
    throw CodedError.validation(
      `${prefix}ProxyIdentifier`,
      'give ProxyIdentifier or ProxyIdentifierSid, not both',
    );
  }
  let proxyIdentifier: string | null = null;
  // Canonical too: the number-pool keeps its numbers as libphonenumber writes them.
  if (p.proxyIdentifier !== undefined)
    proxyIdentifier = canonicalNumber(e164(p.proxyIdentifier, 'ProxyIdentifier'));
  if (p.proxyIdentifierSid !== undefined) {
    proxyIdentifier = typeof p.proxyIdentifierSid === 'string' ? numberOfSid(p.proxyIdentifierSid) : null;
    if (!proxyIdentifier) {
      throw CodedError.validation(
        `${prefix}ProxyIdentifierSid`,
        `${prefix}ProxyIdentifierSid names no phone number (PN and 32 hex digits)`,
      );
    }
  }
  const friendlyName = typeof p.friendlyName === 'string' && p.friendlyName !== '' ? p.friendlyName : null;
  return { identifier, friendlyName, proxyIdentifier };
}
