import { z } from 'zod';

/**
 * The longest UniqueName a Service or Session takes (Twilio's limit), and so the longest reference
 * in a path that can name one (a SID is 34 characters).
 */
export const PROXY_UNIQUE_NAME_MAX = 191;
/** The longest Participant or Interaction reference taken (a SID is 34 characters). */
export const PROXY_SID_REF_MAX = 64;

/** A Service or Session named by its SID or its UniqueName, as Twilio's paths allow. */
export const proxyRefSchema = z.string().min(1).max(PROXY_UNIQUE_NAME_MAX);
/** A Participant or Interaction named by its SID. */
export const proxySidRefSchema = z.string().min(1).max(PROXY_SID_REF_MAX);
