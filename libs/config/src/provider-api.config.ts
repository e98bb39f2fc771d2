import { envUrl } from './env-types';

/**
 * The providers' REST APIs, for whoever asks them something: call-router (the calls Maskline places,
 * the texts it relays) and number-pool (whether the account holds a number being added). `npm start`
 * and every test stack point them at a sandbox on loopback.
 */
export const providerApiConfigShape = {
  PLIVO_API_BASE_URL: envUrl(['http', 'https'], 'https://api.plivo.com'),
  TWILIO_API_BASE_URL: envUrl(['http', 'https'], 'https://api.twilio.com'),
};
