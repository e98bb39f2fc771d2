import { dateTimeAttribute } from '../logic/api-time';
import type { TimelineEntry } from '../logic/session-timeline';

/** The session's timeline: one item per call, message, PIN attempt and callback event, oldest first. */
export function SessionTimelineList({ entries }: { entries: TimelineEntry[] }) {
  return (
    <ol class="timeline" aria-label="Timeline">
      {entries.map((entry) => (
        <li key={entry.key} class={`timeline-entry timeline-${entry.kind} tone-${entry.tone}`}>
          <p class="timeline-head">
            <time dateTime={dateTimeAttribute(entry.time)}>{entry.timeText}</time>{' '}
            <span class="timeline-title">
              <span class={`kind-label kind-${entry.kind}`}>{entry.label}</span>
              <span class="timeline-summary"> — {entry.summary}</span>
            </span>
          </p>
          <dl class="timeline-details">
            {entry.details.map((detail) => (
              <div key={detail.term}>
                <dt>{detail.term}</dt>
                <dd>{detail.value}</dd>
              </div>
            ))}
          </dl>
          {entry.attempts.length > 0 ? (
            <ol class="delivery-attempts" aria-label="Delivery attempts">
              {entry.attempts.map((attempt, index) => (
                <li key={`${attempt.attempt}-${index}`} class={`tone-${attempt.tone}`}>
                  <span class="attempt-title">
                    Attempt {attempt.attempt} — {attempt.outcome}
                  </span>
                  <span class="attempt-facts">
                    {' · '}
                    {attempt.statusCode}
                    {' · '}
                    {attempt.latency}
                    {' · '}
                    <time dateTime={dateTimeAttribute(attempt.time)}>{attempt.timeText}</time>
                  </span>
                  {attempt.error ? <span class="attempt-error">Error: {attempt.error}</span> : null}
                </li>
              ))}
            </ol>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
