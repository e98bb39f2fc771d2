import { Inject, Injectable } from '@nestjs/common';
import { CodedError } from '@maskline/contracts';
import { UrlGuard, hostResolver } from '@maskline/net-guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/**
 * Refuses callback URLs that would make Maskline call into a private network (SSRF), at session
 * create and update: only what is certainly bad (a wrong scheme, credentials, a private or
 * reserved address in any spelling, a host resolving to one). A host that does not resolve right
 * now is accepted: the dispatcher checks again at each delivery, and dead-letters the callback if
 * it never resolves.
 */
@Injectable()
export class CallbackUrlChecker {
  private readonly guard: UrlGuard;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.guard = new UrlGuard(config.CALLBACK_HOST_ALLOWLIST, hostResolver(config.DNS_SERVERS));
  }

  async check(fields: Record<string, string | null | undefined>): Promise<void> {
    for (const [field, url] of Object.entries(fields)) {
      if (!url) continue;
      const verdict = await this.guard.check(url);
      if (verdict.ok === false) throw CodedError.validation(field, `${field} ${verdict.reason}`);
    }
  }
}

/**
 * The URLs Maskline itself will request (the fields a table marks `calledByMaskline`), by their
 * names on the wire: what the SSRF check looks at. One reading for every field table.
 */
export function urlsMasklineCalls<K extends string>(
  entries: ReadonlyArray<readonly [K, { calledByMaskline?: true }]>,
  values: Partial<Record<K, unknown>>,
  wireName: (field: { calledByMaskline?: true } & Record<string, unknown>) => string,
): Record<string, string | null | undefined> {
  return Object.fromEntries(
    entries
      .filter(([, field]) => field.calledByMaskline)
      .map(([key, field]) => [
        wireName(field as Record<string, unknown>),
        values[key] as string | null | undefined,
      ]),
  );
}
