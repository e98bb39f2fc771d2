import { z } from 'zod';

/**
 * The telephony webhooks Maskline serves, one path each under `/voice/<provider>/`: `answer` and
 * `hangup` are configured at the provider; the others Maskline writes into its own XML.
 */
export const VOICE_STAGES = [
  'answer',
  'pin',
  'dial-ended',
  'dial-event',
  'hangup',
  'outbound-answer',
  'recording',
] as const;
export const voiceStageSchema = z.enum(VOICE_STAGES);
export type VoiceStage = z.infer<typeof voiceStageSchema>;

/** Stages a provider reaches only through a URL Maskline wrote, so only with a call context. */
export const STAGES_NEEDING_CONTEXT: ReadonlySet<VoiceStage> = new Set([
  'pin',
  'dial-ended',
  'dial-event',
  'outbound-answer',
  'recording',
]);
