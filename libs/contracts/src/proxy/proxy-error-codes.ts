/** Error codes of Twilio Proxy's resources (the gateway maps them to HTTP and to Twilio's codes). */
export const ProxyErrorCodes = {
  /** Another Service of the account has this UniqueName (Twilio 80602). */
  SERVICE_NAME_TAKEN: 'CONFLICT.PROXY_SERVICE_NAME',
  /** The number serves another Service, or is not in the account's inventory (Twilio 80601). */
  NUMBER_NOT_AVAILABLE: 'CONFLICT.PROXY_NUMBER_NOT_AVAILABLE',
} as const;
