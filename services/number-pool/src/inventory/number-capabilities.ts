import type { NumberCapability } from '@maskline/contracts';
import type { VirtualNumberDocument } from './virtual-number.schema';

export interface NumberCapabilities {
  voiceEnabled: boolean;
  smsEnabled: boolean;
}

/** What a stored number carries; a number stored before capabilities were recorded carries both. */
export function capabilitiesOf(
  doc: Pick<VirtualNumberDocument, 'voiceEnabled' | 'smsEnabled'>,
): NumberCapabilities {
  return { voiceEnabled: doc.voiceEnabled ?? true, smsEnabled: doc.smsEnabled ?? true };
}

/** Whether a number with these capabilities can serve a session that needs `needs`. */
export function carries(capabilities: NumberCapabilities, needs: readonly NumberCapability[]): boolean {
  return needs.every((need) => (need === 'voice' ? capabilities.voiceEnabled : capabilities.smsEnabled));
}
