import { envList } from './env-types';

/** How callback URLs are judged (SSRF rules), by whoever checks them: the gateway at create, the dispatcher at delivery. */
export const callbackUrlConfigShape = {
  /**
   * Hosts callbacks may reach even though they are or resolve to private addresses (tests, local
   * development), matched against the host exactly as the URL writes it. Empty in production.
   */
  CALLBACK_HOST_ALLOWLIST: envList(''),
  /**
   * DNS servers (`host:port`) callback hosts are resolved with; empty: the operating system's
   * resolver. Tests point it at a local server so no query leaves the machine.
   */
  DNS_SERVERS: envList(''),
};
