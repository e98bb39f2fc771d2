import { bool, choice, optionalShapeOf, text, url, type FieldKind, type ValueOf } from '../common/field-kind';
import { telephonyProviderSchema } from './virtual-number.schema';

export interface NumberFieldSpec {
  /** Its name in Plivo's Number API. */
  readonly plivo: string;
  readonly kind: FieldKind;
  readonly default: unknown;
  /** Taken by `POST /Number/` (adding numbers). */
  readonly onAdd: boolean;
  /** Taken by `POST /Number/{number}/`: set it, or also clear it with "". */
  readonly onUpdate: 'set' | 'set-or-clear' | false;
  readonly description: string;
}

/**
 * The plain settings of a virtual number, each written once; the gateway's validation, OpenAPI,
 * defaults, request mapping and view are derived from it. (The number itself, its subaccount and
 * its provider credentials have rules of their own and are written out where they are used.)
 */
export const NUMBER_FIELDS = {
  alias: {
    plivo: 'alias',
    kind: text(0, 100),
    default: null,
    onAdd: false,
    onUpdate: 'set',
    description: 'A name of your own for the number',
  },
  carrier: {
    plivo: 'carrier',
    kind: text(0, 100),
    default: null,
    onAdd: true,
    onUpdate: false,
    description: 'Free text (Plivo: the IncomingCarrier id)',
  },
  region: {
    plivo: 'region',
    kind: text(0, 100),
    default: null,
    onAdd: true,
    onUpdate: false,
    description: 'Free text',
  },
  numberType: {
    plivo: 'number_type',
    kind: text(1, 20),
    default: 'local',
    onAdd: true,
    onUpdate: false,
    description: 'local, mobile, tollfree, …',
  },
  provider: {
    plivo: 'provider',
    kind: choice(telephonyProviderSchema.options),
    default: 'plivo',
    onAdd: true,
    onUpdate: 'set',
    description: 'Which provider carries the number (whose webhooks and calls it takes)',
  },
  voiceEnabled: {
    plivo: 'voice_enabled',
    kind: bool,
    default: true,
    onAdd: true,
    onUpdate: 'set',
    description:
      'The number takes calls: only such numbers are given to sessions (every Plivo-style session is a voice session)',
  },
  smsEnabled: {
    plivo: 'sms_enabled',
    kind: bool,
    default: true,
    onAdd: true,
    onUpdate: 'set',
    description:
      'The number sends and receives text messages: only such numbers are given to sessions with message_masking, and messages are relayed only from them',
  },
  fallbackAnswerUrl: {
    plivo: 'fallback_answer_url',
    kind: url,
    default: null,
    onAdd: true,
    onUpdate: 'set-or-clear',
    description:
      'Where calls go when no live session is on the number (its normal application): Maskline redirects the call there; unset, a short message and hang up',
  },
  fallbackMessage: {
    plivo: 'fallback_message',
    kind: text(1, 1600),
    default: null,
    onAdd: true,
    onUpdate: 'set-or-clear',
    description:
      'Sent back to whoever texts the number when nothing is relayed (no live session of theirs on it, or message masking off); unset, nothing is sent',
  },
} as const satisfies Record<string, NumberFieldSpec>;

export type NumberFieldKey = keyof typeof NUMBER_FIELDS;
export type NumberFieldValues = { [K in NumberFieldKey]: ValueOf<(typeof NUMBER_FIELDS)[K]['kind']> };
export const numberFieldEntries = Object.entries(NUMBER_FIELDS) as Array<[NumberFieldKey, NumberFieldSpec]>;

type KeysWhere<Flag extends 'onAdd' | 'onUpdate'> = {
  [K in NumberFieldKey]: (typeof NUMBER_FIELDS)[K][Flag] extends false ? never : K;
}[NumberFieldKey];

/** What adding numbers may set, as the table says (all optional; the gateway fills defaults). */
export const numberAddShape = optionalShapeOf<typeof NUMBER_FIELDS, KeysWhere<'onAdd'>>(
  NUMBER_FIELDS,
  (f) => f.onAdd,
);
/** What an update may change, as the table says (null clears a field that can be cleared). */
export const numberUpdateShape = Object.fromEntries(
  Object.entries(
    optionalShapeOf<typeof NUMBER_FIELDS, KeysWhere<'onUpdate'>>(NUMBER_FIELDS, (f) => f.onUpdate !== false),
  ).map(([key, schema]) => [
    key,
    NUMBER_FIELDS[key as NumberFieldKey].onUpdate === 'set-or-clear'
      ? schema.unwrap().nullable().optional()
      : schema,
  ]),
) as ReturnType<typeof optionalShapeOf<typeof NUMBER_FIELDS, KeysWhere<'onUpdate'>>>;
