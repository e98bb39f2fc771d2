import { bool, choice, int, url, zodObjectOf, type FieldKind, type ValueOf } from '../common/field-kind';

/** How a setting is shown in Plivo's session object. */
export type SessionFieldView =
  /** Not part of Plivo's session object (it shows the effect instead: `duration`, `expiry_time`). */
  | 'hidden'
  /** The value as it is (null when unset). */
  | 'value'
  /** An unset URL as "" (as Plivo shows callback and play URLs). */
  | 'empty-when-unset'
  /** null unless PIN authentication is on (Plivo's PIN block). */
  | 'pin-block';

export interface SessionFieldSpec {
  /** Its name in Plivo's API (request, response, callbacks). */
  readonly plivo: string;
  /** Other spellings Plivo's SDKs send (plivo-node's snake-casing, plivo-go's capital P). */
  readonly aliases?: readonly string[];
  readonly kind: FieldKind;
  readonly default: unknown;
  /** Whether `POST /Session/{uuid}/` may change it (Plivo's documented list). */
  readonly updatable: boolean;
  /** Not updatable, but Plivo's SDKs send it on update anyway: accepted there and ignored. */
  readonly ignoredOnUpdate?: true;
  readonly view: SessionFieldView;
  /** A URL Maskline itself requests (callbacks): checked against the SSRF rules when set. */
  readonly calledByMaskline?: true;
  readonly description: string;
}

const METHODS = ['GET', 'POST'] as const;

/**
 * Plivo's 24 session settings and Maskline's extensions, each written once: name, SDK aliases, kind and range, default,
 * whether it can be updated, how it is shown. The contract schema (`sessionSettingsSchema`), the
 * gateway's validation and OpenAPI, the create defaults, the update rules and the Plivo view are
 * all derived from this table. A new setting is one entry here, plus whatever it makes happen.
 */
export const SESSION_FIELDS = {
  sessionExpirySeconds: {
    plivo: 'session_expiry',
    kind: int(1, 90 * 86400, 'seconds'),
    default: 3600,
    updatable: true,
    view: 'hidden',
    description: 'Seconds until the session ends (on update: counted from the update)',
  },
  callTimeLimitSeconds: {
    plivo: 'call_time_limit',
    kind: int(1, 86400, 'seconds'),
    default: 3600,
    updatable: true,
    view: 'value',
    description: 'Maximum length of each call, seconds',
  },
  ringTimeoutSeconds: {
    plivo: 'ring_timeout',
    kind: int(1, 300, 'seconds'),
    default: 120,
    updatable: true,
    view: 'value',
    description: 'Ring timeout of each leg, seconds',
  },
  initiateCallToFirstParty: {
    plivo: 'initiate_call_to_first_party',
    kind: bool,
    default: false,
    updatable: false,
    view: 'value',
    description: 'Call the first party at once and bridge to the second',
  },
  callbackUrl: {
    plivo: 'callback_url',
    kind: url,
    default: null,
    updatable: true,
    view: 'empty-when-unset',
    calledByMaskline: true,
    description: 'Where session events are sent',
  },
  callbackMethod: {
    plivo: 'callback_method',
    kind: choice(METHODS, true),
    default: 'POST',
    updatable: true,
    view: 'value',
    description: 'GET or POST',
  },
  record: {
    plivo: 'record',
    kind: bool,
    default: false,
    updatable: true,
    view: 'value',
    description: 'Record calls once both parties answer',
  },
  recordFileFormat: {
    plivo: 'record_file_format',
    kind: choice(['mp3', 'wav']),
    default: 'mp3',
    updatable: true,
    view: 'value',
    description: 'mp3 or wav',
  },
  recordingCallbackUrl: {
    plivo: 'recording_callback_url',
    kind: url,
    default: null,
    updatable: true,
    view: 'empty-when-unset',
    calledByMaskline: true,
    description: 'Where recording events are sent',
  },
  recordingCallbackMethod: {
    plivo: 'recording_callback_method',
    kind: choice(METHODS, true),
    default: 'POST',
    updatable: true,
    view: 'value',
    description: 'GET or POST',
  },
  firstPartyPlayUrl: {
    plivo: 'first_party_play_url',
    kind: url,
    default: null,
    updatable: true,
    view: 'empty-when-unset',
    description: 'Played to the first party before connecting',
  },
  secondPartyPlayUrl: {
    plivo: 'second_party_play_url',
    kind: url,
    default: null,
    updatable: true,
    view: 'empty-when-unset',
    description: 'Played to the second party before connecting',
  },
  isPinAuthenticationRequired: {
    plivo: 'is_pin_authentication_required',
    kind: bool,
    default: false,
    updatable: false,
    view: 'value',
    description: 'Callers from other phones must enter a PIN',
  },
  generatePin: {
    plivo: 'generate_pin',
    kind: bool,
    default: false,
    updatable: false,
    view: 'pin-block',
    description: 'Maskline generates the PINs',
  },
  generatePinLength: {
    plivo: 'generate_pin_length',
    kind: int(4, 15),
    default: 4,
    updatable: false,
    view: 'pin-block',
    description: 'Length of generated PINs',
  },
  pinPromptPlay: {
    plivo: 'pin_prompt_play',
    kind: url,
    default: null,
    updatable: false,
    view: 'pin-block',
    description: 'Played to ask for the PIN (a spoken prompt when unset)',
  },
  pinRetry: {
    plivo: 'pin_retry',
    kind: int(0, 5),
    default: 1,
    updatable: false,
    view: 'pin-block',
    description: 'Retries after a wrong PIN',
  },
  pinRetryWaitSeconds: {
    plivo: 'pin_retry_wait',
    kind: int(5, 10, 'seconds'),
    default: 5,
    updatable: false,
    view: 'pin-block',
    description: 'Seconds before a retry',
  },
  incorrectPinPlay: {
    plivo: 'incorrect_pin_play',
    kind: url,
    default: null,
    updatable: false,
    view: 'pin-block',
    description: 'Played after a wrong PIN',
  },
  unknownCallerPlay: {
    plivo: 'unknown_caller_play',
    kind: url,
    default: null,
    updatable: false,
    view: 'value',
    description: 'Played to an unknown caller when the session has no PIN',
  },
  forcePinAuthentication: {
    plivo: 'force_pin_authentication',
    kind: bool,
    default: false,
    updatable: false,
    view: 'value',
    description: 'Registered parties must enter their PIN too',
  },
  createSessionWithSingleParty: {
    plivo: 'create_session_with_single_party',
    aliases: ['create_session_with_single_Party'],
    kind: bool,
    default: false,
    updatable: false,
    view: 'value',
    description: 'A session with one party (anyone who calls reaches it)',
  },
  virtualNumberCooloffSeconds: {
    plivo: 'virtual_number_cooloff_period',
    kind: int(0, 3600, 'seconds'),
    default: 0,
    updatable: false,
    view: 'value',
    description: 'Seconds the number stays reserved for the parties after the session ends',
  },
  geomatch: {
    plivo: 'geomatch',
    aliases: ['geo_match'],
    kind: bool,
    default: true,
    updatable: false,
    ignoredOnUpdate: true,
    view: 'value',
    description: "The virtual number's country must be the first party's",
  },
  messageMasking: {
    plivo: 'message_masking',
    kind: bool,
    default: false,
    updatable: true,
    view: 'value',
    description:
      "Maskline's extension: the parties' text messages (SMS, MMS) to the virtual number are relayed to each other",
  },
} as const satisfies Record<string, SessionFieldSpec>;

export type SessionSettingKey = keyof typeof SESSION_FIELDS;
export type SessionSettings = { [K in SessionSettingKey]: ValueOf<(typeof SESSION_FIELDS)[K]['kind']> };
export type UpdatableSettingKey = {
  [K in SessionSettingKey]: (typeof SESSION_FIELDS)[K]['updatable'] extends true ? K : never;
}[SessionSettingKey];

/** Every setting, as the table says. */
export const sessionSettingsSchema = zodObjectOf(SESSION_FIELDS);

/** The settings `POST /Session/{uuid}/` may change, as the table says. */
export const UPDATABLE_SETTINGS = Object.fromEntries(
  Object.entries(SESSION_FIELDS)
    .filter(([, f]) => f.updatable)
    .map(([key]) => [key, true]),
) as { [K in UpdatableSettingKey]: true };

/** A setting's table entry, by key: for code that walks the table. */
export const sessionFieldEntries = Object.entries(SESSION_FIELDS) as Array<
  [SessionSettingKey, SessionFieldSpec]
>;

/** Every setting at its default: what a session gets for what its creator does not say. */
export const DEFAULT_SESSION_SETTINGS = Object.fromEntries(
  sessionFieldEntries.map(([key, field]) => [key, field.default]),
) as SessionSettings;
