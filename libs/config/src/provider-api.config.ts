import { envUrl } from './env-types';

/**
 * The providers' REST APIs, for whoever asks them something: call-router (the calls Maskline places,
 * the texts it relays) and number-pool (whether the account holds a number being added). Required,
 * with no default: a service started with no setting must not reach a real provider's API from a
 * developer's machine (`npm start` and every test stack point them at a sandbox on loopback;
 * production manifests name the real APIs).
 */
export const providerApiConfigShape = {
  PLIVO_API_BASE_URL: envUrl(['http', 'https']),
  TWILIO_API_BASE_URL: envUrl(['http', 'https']),
};
