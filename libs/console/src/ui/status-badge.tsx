import type { OutcomeTone } from '../logic/session-timeline';

/** A status in words with a colour behind it; the words carry the meaning, the colour only helps. */
export function StatusBadge({ tone, children }: { tone: OutcomeTone; children: string }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function sessionStatusTone(status: string): OutcomeTone {
  if (status === 'active') return 'good';
  if (status === 'expired') return 'neutral';
  return 'warn';
}

/** "Active", "Expired"; anything else as sent. */
export function sessionStatusLabel(status: string): string {
  if (status === 'active') return 'Active';
  if (status === 'expired') return 'Expired';
  return status;
}
