import { PROXY_UNIQUE_NAME_MAX } from './proxy-ref';
import { choice, int, optionalShapeOf, text, type FieldKind } from '../common/field-kind';

export interface ProxySessionFieldSpec {
  /** Its request parameter in Twilio's Proxy API (form-encoded, PascalCase). */
  readonly param: string;
  /** Its name in Twilio's Session resource (JSON, snake_case). */
  readonly json: string;
  readonly kind: FieldKind;
  /** May `POST /Sessions/{sid}` change it (Twilio: DateExpiry, Ttl, Status). */
  readonly updatable: boolean;
  readonly description: string;
}

/** A Session's modes, and what each asks of its proxy number. */
export const PROXY_SESSION_MODES = ['voice-only', 'message-only', 'voice-and-message'] as const;
export type ProxySessionMode = (typeof PROXY_SESSION_MODES)[number];

/**
 * The settings of a Twilio Proxy Session that are plain values, each written once: the gateway's
 * parsing and OpenAPI, the contract, and the Session view derive from it. `DateExpiry` (a time)
 * and `Participants` (a list) are read where the request is read.
 */
export const PROXY_SESSION_FIELDS = {
  uniqueName: {
    param: 'UniqueName',
    json: 'unique_name',
    kind: text(1, PROXY_UNIQUE_NAME_MAX),
    updatable: false,
    description: 'A name of your own, unique among the Service’s Sessions; usable in place of the SID',
  },
  ttl: {
    param: 'Ttl',
    json: 'ttl',
    kind: int(0, 31_536_000, 'seconds'),
    updatable: true,
    description:
      'Seconds the Session lasts after its creation or its last interaction, whichever is later (a sliding expiry; 0: no limit). Default: the Service’s default_ttl',
  },
  mode: {
    param: 'Mode',
    json: 'mode',
    kind: choice(PROXY_SESSION_MODES),
    updatable: false,
    description: 'What the Session relays: voice-only, message-only or voice-and-message (the default)',
  },
  status: {
    param: 'Status',
    json: 'status',
    kind: choice(['open', 'in-progress', 'closed']),
    updatable: true,
    description:
      'At create: open or in-progress (the same to Maskline). On update: closed closes the Session',
  },
} as const satisfies Record<string, ProxySessionFieldSpec>;

export type ProxySessionFieldKey = keyof typeof PROXY_SESSION_FIELDS;
export const proxySessionFieldEntries = Object.entries(PROXY_SESSION_FIELDS) as Array<
  [ProxySessionFieldKey, ProxySessionFieldSpec]
>;

export const proxySessionSettingsShape = optionalShapeOf<typeof PROXY_SESSION_FIELDS, ProxySessionFieldKey>(
  PROXY_SESSION_FIELDS,
  () => true,
);

/** The number capabilities a mode needs of its proxy number, and whether texts are relayed. */
export function modeNeeds(mode: ProxySessionMode): { needs: Array<'voice' | 'sms'>; messages: boolean } {
  switch (mode) {
    case 'voice-only':
      return { needs: ['voice'], messages: false };
    case 'message-only':
      return { needs: ['sms'], messages: true };
    case 'voice-and-message':
      return { needs: ['voice', 'sms'], messages: true };
  }
}
