import { accountSidOf } from '@maskline/contracts';
import type { ApiKey } from './api-key.schema';

/** What the API shows of an API key: never its secret (shown once, when it is made). */
export function apiKeyView(key: ApiKey) {
  return {
    sid: key._id,
    friendly_name: key.friendlyName,
    auth_id: key.authId,
    account_sid: accountSidOf(key.authId),
    date_created: key.createdAt.toISOString(),
  };
}
