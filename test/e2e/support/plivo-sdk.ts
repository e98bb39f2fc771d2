import axios from 'axios';
import * as plivo from 'plivo';

let rerouted: string | undefined;

/**
 * Plivo's official Node SDK, pointed at Maskline: the SDK hard-codes https://api.plivo.com, so
 * its requests (made through axios's default instance) are rewritten to the gateway's base URL.
 */
export function plivoClient(baseUrl: string, authId: string, authToken: string): plivo.Client {
  if (rerouted !== baseUrl) {
    axios.interceptors.request.use((config) => {
      if (config.url?.startsWith('https://api.plivo.com')) {
        config.url = config.url.replace('https://api.plivo.com', baseUrl);
      }
      return config;
    });
    rerouted = baseUrl;
  }
  return new plivo.Client(authId, authToken);
}
