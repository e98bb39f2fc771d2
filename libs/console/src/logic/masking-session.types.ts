import type { ListMeta } from './console-session.types';

/** A call through the session's virtual number, as Plivo's session detail lists it. */
export interface CallInteraction {
  type: 'call';
  start_time: string | null;
  end_time: string | null;
  first_party_status: string | null;
  second_party_status: string | null;
  /** Seconds; Plivo sends a number or a numeric string. */
  duration: number | string | null;
  total_call_count?: number | null;
  first_party_resource_url?: string | null;
  second_party_resource_url?: string | null;
}

/** A message through the session's virtual number. There is no text: the API never returns it. */
export interface MessageInteraction {
  type: 'message';
  time: string | null;
  direction: string | null;
  from_party: string | null;
  to_party: string | null;
  status: string | null;
  failure_reason: string | null;
  segment_count: number | null;
  message_uuid: string | null;
}

export type SessionInteraction = CallInteraction | MessageInteraction;

export type MaskingSessionStatus = 'active' | 'expired';

export interface MaskingSession {
  session_uuid: string;
  first_party: string | null;
  second_party: string | null;
  virtual_number: string | null;
  status: MaskingSessionStatus | string;
  created_time: string | null;
  expiry_time: string | null;
  duration?: number | string | null;
  total_call_count?: number | null;
  total_message_count?: number | null;
  last_interaction_time?: string | null;
  /** Only on the detail: null when nothing happened yet. */
  interaction?: SessionInteraction[] | null;
}

export interface SessionListResponse {
  api_id: string;
  response: { meta: ListMeta; objects: MaskingSession[] };
}

export interface SessionDetailResponse {
  api_id: string;
  response: MaskingSession;
}
