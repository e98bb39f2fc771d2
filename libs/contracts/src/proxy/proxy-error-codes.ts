/** Error codes of Twilio Proxy's resources (the gateway maps them to HTTP and to Twilio's codes). */
export const ProxyErrorCodes = {
  /** Another Service of the account has this UniqueName (Twilio 80602). */
  SERVICE_NAME_TAKEN: 'CONFLICT.PROXY_SERVICE_NAME',
  /** The number serves another Service, or is not in the account's inventory (Twilio 80601). */
  NUMBER_NOT_AVAILABLE: 'CONFLICT.PROXY_NUMBER_NOT_AVAILABLE',
  /** Another Session of the Service has this UniqueName (Twilio 80603). */
  SESSION_NAME_TAKEN: 'CONFLICT.PROXY_SESSION_NAME',
  /** The Session is closed and cannot be changed (Twilio 80607). */
  SESSION_CLOSED: 'VALIDATION.PROXY_SESSION_CLOSED',
  /** A status change Maskline does not make (re-opening a closed Session; Twilio 80608). */
  SESSION_STATUS_INVALID: 'VALIDATION.PROXY_SESSION_STATUS',
  /** The Session has its two participants already (Twilio 80609). */
  PARTICIPANT_LIMIT: 'VALIDATION.PROXY_PARTICIPANT_LIMIT',
  /** The identifier is a participant of the Session already (Twilio 80103). */
  PARTICIPANT_EXISTS: 'VALIDATION.PROXY_PARTICIPANT_EXISTS',
  /** Another request is adding a participant to this Session right now; retry (Twilio 80623). */
  PARTICIPANT_BUSY: 'CONFLICT.PROXY_PARTICIPANT_BUSY',
  /** The proxy number asked for cannot serve this participant (Twilio 80604). */
  PROXY_IDENTIFIER_IN_USE: 'CONFLICT.PROXY_IDENTIFIER_IN_USE',
  /** The owner holds as many open Sessions without participants as it may (Twilio 20409 family). */
  TOO_MANY_EMPTY_SESSIONS: 'CONFLICT.PROXY_EMPTY_SESSIONS',
  /** The account (its subaccounts' included) holds as many Services as it may (Twilio 20409 family). */
  TOO_MANY_SERVICES: 'CONFLICT.PROXY_SERVICES',
  /** A removal Maskline does not make (a participant of a live Session). */
  PARTICIPANT_REMOVAL_UNSUPPORTED: 'VALIDATION.PROXY_PARTICIPANT_REMOVAL',
} as const;
