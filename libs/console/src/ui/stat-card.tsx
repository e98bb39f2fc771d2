import type { ComponentChildren } from 'preact';
import type { OutcomeTone } from '../logic/session-timeline';

/** A fixed-size card with one figure; while loading it keeps its size and shows a placeholder. */
export function StatCard({
  label,
  value,
  note,
  tone = 'neutral',
  loading = false,
  large = false,
}: {
  label: string;
  value: ComponentChildren;
  note?: ComponentChildren;
  tone?: OutcomeTone;
  loading?: boolean;
  large?: boolean;
}) {
  return (
    <div class={`stat-card tone-${tone}${large ? ' stat-card-large' : ''}`} aria-busy={loading}>
      <dt class="stat-label">{label}</dt>
      <dd class="stat-value">
        {loading ? (
          <span class="skeleton skeleton-text">
            <span class="visually-hidden">Loading</span>
          </span>
        ) : (
          value
        )}
      </dd>
      <dd class="stat-note">{loading ? '' : note}</dd>
    </div>
  );
}

/** The card grid: a description list so each figure is announced with its label. */
export function StatCards({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div role="group" aria-label={label}>
      <dl class="stat-cards">{children}</dl>
    </div>
  );
}
