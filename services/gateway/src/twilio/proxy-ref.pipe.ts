import { type PipeTransform } from '@nestjs/common';
import { CodedError, PROXY_SID_REF_MAX, PROXY_UNIQUE_NAME_MAX } from '@maskline/contracts';

/**
 * A path's reference to a Service, Session, Participant or Interaction: one longer than any SID or
 * UniqueName names nothing, so it is not found (404, as Twilio answers), not a 400 naming a field
 * of the internal request that carries it.
 */
export class ProxyRefPipe implements PipeTransform<string, string> {
  constructor(
    private readonly resource: string,
    private readonly max: number,
  ) {}

  transform(value: string): string {
    if (value.length > this.max) {
      throw CodedError.notFound(`${this.resource} ${value.slice(0, 64)}… not found`);
    }
    return value;
  }
}

/** The path parameters of Twilio's Proxy API, each with what it may name. */
export const PROXY_REFS = {
  service: new ProxyRefPipe('Service', PROXY_UNIQUE_NAME_MAX),
  session: new ProxyRefPipe('Session', PROXY_UNIQUE_NAME_MAX),
  participant: new ProxyRefPipe('Participant', PROXY_SID_REF_MAX),
  interaction: new ProxyRefPipe('Interaction', PROXY_SID_REF_MAX),
} as const;
