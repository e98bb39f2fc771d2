import { PROXY_UNIQUE_NAME_MAX } from './proxy-ref';
import { bool, choice, int, optionalShapeOf, text, url, type FieldKind } from '../common/field-kind';

export interface ProxyServiceFieldSpec {
  /** Its request parameter in Twilio's Proxy API (form-encoded, PascalCase). */
  readonly param: string;
  /** Its name in Twilio's Service resource (JSON, snake_case). */
  readonly json: string;
  readonly kind: FieldKind;
  readonly default: unknown;
  /** Required at create (Twilio: `UniqueName`). */
  readonly required?: true;
  /** A URL Maskline itself requests: checked against the SSRF rules when set. */
  readonly calledByMaskline?: true;
  readonly description: string;
}

/**
 * The settings of a Twilio Proxy Service, each written once: the gateway's parsing of Twilio's
 * form parameters, the contract, the defaults and Twilio's Service view are derived from it.
 * Every one may be given at create and changed by an update, as Twilio's API allows.
 */
export const PROXY_SERVICE_FIELDS = {
  uniqueName: {
    param: 'UniqueName',
    json: 'unique_name',
    kind: text(1, PROXY_UNIQUE_NAME_MAX),
    default: null,
    required: true,
    description: 'A name of your own, unique among the account’s Services; usable in place of the SID',
  },
  defaultTtl: {
    param: 'DefaultTtl',
    json: 'default_ttl',
    kind: int(0, 31_536_000, 'seconds'),
    default: 0,
    description:
      'Seconds a Session lasts after its last interaction (or its creation), unless it says otherwise; 0: no limit',
  },
  callbackUrl: {
    param: 'CallbackUrl',
    json: 'callback_url',
    kind: url,
    default: null,
    calledByMaskline: true,
    description: 'Where Maskline reports each interaction and Session status change',
  },
  geoMatchLevel: {
    param: 'GeoMatchLevel',
    json: 'geo_match_level',
    kind: choice(['country', 'area-code', 'overlay', 'radius']),
    default: 'country',
    description: 'How near to the Participant a proxy number must be',
  },
  numberSelectionBehavior: {
    param: 'NumberSelectionBehavior',
    json: 'number_selection_behavior',
    kind: choice(['prefer-sticky', 'avoid-sticky']),
    default: 'prefer-sticky',
    description:
      'prefer-sticky gives a Participant the proxy number it had before, if free; avoid-sticky a different one',
  },
  interceptCallbackUrl: {
    param: 'InterceptCallbackUrl',
    json: 'intercept_callback_url',
    kind: url,
    default: null,
    calledByMaskline: true,
    description: 'Asked before each interaction: a 403 blocks it',
  },
  outOfSessionCallbackUrl: {
    param: 'OutOfSessionCallbackUrl',
    json: 'out_of_session_callback_url',
    kind: url,
    default: null,
    calledByMaskline: true,
    description: 'Told of calls and messages to a proxy number from someone in no open Session on it',
  },
  chatInstanceSid: {
    param: 'ChatInstanceSid',
    json: 'chat_instance_sid',
    kind: text(0, 64),
    default: null,
    description: 'Accepted for compatibility and ignored (Maskline has no chat channel)',
  },
  interceptFailClosed: {
    param: 'InterceptFailClosed',
    json: 'intercept_fail_closed',
    kind: bool,
    default: false,
    description:
      'Maskline’s extension: an intercept callback that fails or does not answer blocks the interaction (Twilio lets it through)',
  },
} as const satisfies Record<string, ProxyServiceFieldSpec>;

export type ProxyServiceFieldKey = keyof typeof PROXY_SERVICE_FIELDS;
export const proxyServiceFieldEntries = Object.entries(PROXY_SERVICE_FIELDS) as Array<
  [ProxyServiceFieldKey, ProxyServiceFieldSpec]
>;

/** Every setting, optional (a create's required ones are checked where the request is read). */
export const proxyServiceSettingsShape = optionalShapeOf<typeof PROXY_SERVICE_FIELDS, ProxyServiceFieldKey>(
  PROXY_SERVICE_FIELDS,
  () => true,
);
