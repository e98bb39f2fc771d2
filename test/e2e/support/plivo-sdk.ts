import axios, { type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import * as plivo from 'plivo';

let target: string | undefined;

function reroute(config: InternalAxiosRequestConfig): InternalAxiosRequestConfig {
  if (target && config.url?.startsWith('https://api.plivo.com')) {
    config.url = config.url.replace('https://api.plivo.com', target);
  }
  return config;
}

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  axios.interceptors.request.use(reroute);
  // Voice (and masking) requests go through a fresh `axios.create()` instance per request.
  const create = axios.create.bind(axios);
  axios.create = ((...args: Parameters<typeof axios.create>): AxiosInstance => {
    const instance = create(...args);
    instance.interceptors.request.use(reroute);
    return instance;
  }) as typeof axios.create;
}

/**
 * Plivo's official Node SDK, pointed at Maskline: the SDK hard-codes https://api.plivo.com, so its
 * requests are rewritten to the gateway's base URL.
 */
export function plivoClient(baseUrl: string, authId: string, authToken: string): plivo.Client {
  install();
  target = baseUrl;
  return new plivo.Client(authId, authToken);
}
