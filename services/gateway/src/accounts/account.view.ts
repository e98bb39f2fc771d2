import { accountSidOf } from '@maskline/contracts';
import type { Account } from './account.schema';

export interface AccountView {
  auth_id: string;
  name: string;
  kind: 'main' | 'sub';
  parent_auth_id: string | null;
  enabled: boolean;
  created: string;
  /** Its name on the Twilio-compatible API (with the Auth Token, or an API key of it). */
  twilio_account_sid: string;
}

/** What the API shows of an account. Never the token. */
export function accountView(account: Account): AccountView {
  return {
    auth_id: account._id,
    name: account.name,
    kind: account.kind,
    parent_auth_id: account.kind === 'sub' ? account.accountId : null,
    enabled: account.enabled,
    created: account.createdAt.toISOString(),
    twilio_account_sid: accountSidOf(account._id),
  };
}
