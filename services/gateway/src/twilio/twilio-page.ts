import { CodedError, PROXY_PAGE_REACH_RULE, proxyPageShape, proxyPageWithinReach } from '@maskline/contracts';

const DEFAULT_PAGE_SIZE = 50;

/** Twilio's paging parameters: `Page` (from 0), `PageSize` (as the contract bounds it; 50), `PageToken` (accepted, not needed). */
export function readTwilioPaging(query: Record<string, unknown>): { page: number; pageSize: number } {
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
      throw CodedError.validation(name, `${name} must be a whole number from ${min} to ${max}`);
    return Number(raw);
  };
  for (const name of Object.keys(query)) {
    if (!['Page', 'PageSize', 'PageToken'].includes(name))
      throw CodedError.validation(name, `${name} is not a parameter of this list`);
  }
  const { page, pageSize } = proxyPageShape;
  const paging = {
    page: int('Page', 0, page.minValue!, page.maxValue!),
    pageSize: int('PageSize', DEFAULT_PAGE_SIZE, pageSize.minValue!, pageSize.maxValue!),
  };
  if (!proxyPageWithinReach(paging)) throw CodedError.validation('Page', PROXY_PAGE_REACH_RULE);
  return paging;
}

/** A list page in Twilio's shape: `meta` (with its page URLs) and the records under `key`. */
export function twilioPage<T>(
  listUrl: string,
  key: string,
  records: T[],
  { page, pageSize, more }: { page: number; pageSize: number; more: boolean },
) {
  const at = (p: number) => `${listUrl}?PageSize=${pageSize}&Page=${p}`;
  return {
    meta: {
      page,
      page_size: pageSize,
      first_page_url: at(0),
      previous_page_url: page > 0 ? at(page - 1) : null,
      // None past the reach a page may have: the SDKs follow it, and would be refused there.
      next_page_url: more && proxyPageWithinReach({ page: page + 1, pageSize }) ? at(page + 1) : null,
      url: at(page),
      key,
    },
    [key]: records,
  };
}
