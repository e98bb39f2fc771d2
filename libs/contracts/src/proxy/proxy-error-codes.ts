/** Error codes of Twilio Proxy's resources (the gateway maps them to HTTP and to Twilio's codes). */
export const ProxyErrorCodes = {
  /** Another Service of the account has this UniqueName (Twilio 80602). */
  SERVICE_NAME_TAKEN: 'CONFLICT.PROXY_SERVICE_NAME',
} as const;
