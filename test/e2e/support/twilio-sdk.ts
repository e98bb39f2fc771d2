import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';

/**
 * Twilio's official Node SDK, pointed at Maskline the way its docs allow: an `httpClient` that
 * sends what the SDK addresses to Twilio's hosts (`https://proxy.twilio.com`, …) to the gateway
 * instead. Anything else (Maskline's own paging URLs) goes where it says. Nothing leaves loopback.
 */
export function twilioClient(
  baseUrl: string,
  username: string,
  password: string,
  options: { accountSid?: string } = {},
): twilio.Twilio {
  class ToMaskline extends RequestClient {
    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      const url = new URL(opts.uri);
      const uri = /(^|\.)twilio\.com$/.test(url.hostname)
        ? `${baseUrl}${url.pathname}${url.search}`
        : opts.uri;
      return super.request({ ...opts, uri });
    }
  }
  return twilio(username, password, { accountSid: options.accountSid, httpClient: new ToMaskline() });
}

/** What Twilio's SDK throws for an error answer (its RestException). */
export interface RestError {
  status: number;
  code: number;
  message: string;
  moreInfo: string;
}

/** The SDK's error for a call that must fail (the test fails if it succeeds). */
export async function rejection(p: Promise<unknown>): Promise<RestError> {
  try {
    await p;
  } catch (err) {
    return err as RestError;
  }
  throw new Error('expected the call to fail');
}
