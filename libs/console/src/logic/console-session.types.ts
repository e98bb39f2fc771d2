/** Who is signed in to the console: the body of POST and GET /console/api/session. */
export type ConsoleSessionKind = 'account' | 'operator';

export interface ConsoleSession {
  kind: ConsoleSessionKind;
  /** The account's auth id; null for the operator. */
  auth_id: string | null;
  subaccount: boolean;
  csrf_token: string;
  idle_timeout_seconds: number;
}

/** Plivo's error body; `error` names the field and the rule and is shown verbatim. */
export interface ApiErrorBody {
  api_id?: string;
  error?: string;
}

/** Plivo's list paging block. */
export interface ListMeta {
  limit: number;
  offset: number;
  total_count: number;
  next?: string | null;
  previous?: string | null;
}
