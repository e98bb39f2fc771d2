import { useMemo, useState } from 'preact/hooks';
import { displayApiTime, formatDuration } from '../logic/api-time';
import type { SessionCallbacksResponse } from '../logic/callbacks.types';
import { consoleEndpoints } from '../logic/console-endpoints';
import type { SessionDetailResponse } from '../logic/masking-session.types';
import { formatCount, formatPhoneNumber } from '../logic/phone-number-format';
import type { PinAttemptsResponse } from '../logic/pin-security.types';
import { buildSessionTimeline } from '../logic/session-timeline';
import { errorText, SessionEndedError } from './api-client';
import { useAuthId, useConsole } from './console-context';
import { DeadLettersTable } from './dead-letters-table';
import { ErrorAlert } from './error-alert';
import { ExpireSessionDialog } from './expire-session-dialog';
import { PageHeading } from './page-heading';
import { SessionTimelineList } from './session-timeline-list';
import { sessionStatusLabel, sessionStatusTone, StatusBadge } from './status-badge';
import { useApiResource } from './use-api-resource';

/**
 * One session: its summary, then everything that happened in it. Detail, callbacks and PIN attempts load in
 * parallel; when one fails its error shows in place and the rest is still shown.
 */
export function SessionDetailView({ uuid }: { uuid: string }) {
  const { client } = useConsole();
  const authId = useAuthId();
  const detail = useApiResource(
    (signal) => client.get<SessionDetailResponse>(consoleEndpoints.session(authId, uuid), signal),
    [authId, uuid],
  );
  const callbacks = useApiResource(
    (signal) => client.get<SessionCallbacksResponse>(consoleEndpoints.sessionCallbacks(authId, uuid), signal),
    [authId, uuid],
  );
  const pinAttempts = useApiResource(
    (signal) => client.get<PinAttemptsResponse>(consoleEndpoints.sessionPinAttempts(authId, uuid), signal),
    [authId, uuid],
  );
  const [confirming, setConfirming] = useState(false);
  const [expiring, setExpiring] = useState(false);
  const [expireError, setExpireError] = useState<string | null>(null);
  const [status, setStatus] = useState('');

  const session = detail.data?.response ?? null;
  const timeline = useMemo(
    () =>
      buildSessionTimeline({
        interactions: session?.interaction,
        pinAttempts: pinAttempts.data?.objects,
        callbackAttempts: callbacks.data?.attempts,
        deadLetters: callbacks.data?.dead_letters,
      }),
    [session, pinAttempts.data, callbacks.data],
  );
  const loadingAny = detail.loading || callbacks.loading || pinAttempts.loading;

  const reloadAll = (): void => {
    detail.reload();
    callbacks.reload();
    pinAttempts.reload();
  };

  const expire = async (): Promise<void> => {
    setExpiring(true);
    setExpireError(null);
    try {
      await client.request('DELETE', consoleEndpoints.session(authId, uuid));
      setConfirming(false);
      setStatus('Session expired.');
      reloadAll();
    } catch (error) {
      if (!(error instanceof SessionEndedError)) setExpireError(errorText(error));
    } finally {
      setExpiring(false);
    }
  };

  return (
    <section class="view">
      <p class="back-link">
        <a href="#/sessions">← All sessions</a>
      </p>
      <PageHeading>
        Session <code class="heading-id">{uuid}</code>
      </PageHeading>
      <p class="status-line" role="status">
        {status}
      </p>

      <section aria-labelledby="session-summary-title" class="panel">
        <div class="panel-head">
          <h2 id="session-summary-title">Summary</h2>
          <div class="panel-actions">
            <button type="button" class="button-secondary" onClick={reloadAll} disabled={loadingAny}>
              Refresh
            </button>
            {session?.status === 'active' ? (
              <button
                type="button"
                class="button-danger"
                onClick={() => {
                  setExpireError(null);
                  setConfirming(true);
                }}
              >
                Expire session
              </button>
            ) : null}
          </div>
        </div>
        {detail.error ? (
          <ErrorAlert context="Session" message={detail.error} onRetry={detail.reload} />
        ) : null}
        <dl class="summary-list" aria-busy={detail.loading}>
          <SummaryItem
            loading={detail.loading}
            term="First party"
            value={session ? formatPhoneNumber(session.first_party) : null}
          />
          <SummaryItem
            loading={detail.loading}
            term="Second party"
            value={session ? formatPhoneNumber(session.second_party) : null}
          />
          <SummaryItem
            loading={detail.loading}
            term="Virtual number"
            value={session ? formatPhoneNumber(session.virtual_number) : null}
          />
          <div>
            <dt>Status</dt>
            <dd>
              {session ? (
                <StatusBadge tone={sessionStatusTone(session.status)}>
                  {sessionStatusLabel(session.status)}
                </StatusBadge>
              ) : (
                <Placeholder loading={detail.loading} />
              )}
            </dd>
          </div>
          <SummaryItem
            loading={detail.loading}
            term="Created"
            value={session ? displayApiTime(session.created_time) : null}
          />
          <SummaryItem
            loading={detail.loading}
            term="Expires"
            value={session ? displayApiTime(session.expiry_time) : null}
          />
          <SummaryItem
            loading={detail.loading}
            term="Last interaction"
            value={session ? displayApiTime(session.last_interaction_time) : null}
          />
          <SummaryItem
            loading={detail.loading}
            term="Duration"
            value={session ? formatDuration(session.duration) : null}
          />
          <SummaryItem
            loading={detail.loading}
            term="Calls"
            value={session ? formatCount(session.total_call_count ?? null) : null}
          />
          <SummaryItem
            loading={detail.loading}
            term="Messages"
            value={session ? formatCount(session.total_message_count ?? null) : null}
          />
        </dl>
      </section>

      <section aria-labelledby="session-timeline-title" class="panel">
        <h2 id="session-timeline-title">Timeline</h2>
        <p class="hint">
          Oldest first, times in UTC. Message text is never stored or shown; PINs are never shown.
        </p>
        {callbacks.error ? (
          <ErrorAlert context="Callbacks" message={callbacks.error} onRetry={callbacks.reload} />
        ) : null}
        {pinAttempts.error ? (
          <ErrorAlert context="PIN attempts" message={pinAttempts.error} onRetry={pinAttempts.reload} />
        ) : null}
        <div aria-busy={loadingAny}>
          {timeline.length > 0 ? <SessionTimelineList entries={timeline} /> : null}
          {timeline.length === 0 && loadingAny ? <p class="loading-note">Loading the timeline…</p> : null}
          {timeline.length === 0 && !loadingAny ? (
            <p class="empty-state">
              Nothing has happened in this session yet. Calls, messages, PIN attempts and callbacks appear
              here as they happen; use Refresh to check again.
            </p>
          ) : null}
        </div>
      </section>

      <section aria-labelledby="session-dead-letters-title" class="panel">
        <h2 id="session-dead-letters-title">Dead letters of this session</h2>
        {callbacks.data ? (
          <DeadLettersTable
            letters={callbacks.data.dead_letters ?? []}
            caption="Dead letters of this session"
            emptyText="No dead letters for this session. Callbacks that fail after their last retry land here."
            onReplayed={callbacks.reload}
          />
        ) : callbacks.loading ? (
          <p class="loading-note">Loading dead letters…</p>
        ) : (
          <p class="empty-state">Dead letters could not be loaded; see the error above.</p>
        )}
      </section>

      <ExpireSessionDialog
        open={confirming}
        busy={expiring}
        error={expireError}
        sessionUuid={uuid}
        onConfirm={expire}
        onCancel={() => setConfirming(false)}
      />
    </section>
  );
}

function SummaryItem({ term, value, loading }: { term: string; value: string | null; loading: boolean }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{value ?? <Placeholder loading={loading} />}</dd>
    </div>
  );
}

function Placeholder({ loading }: { loading: boolean }) {
  return loading ? (
    <span class="skeleton skeleton-text">
      <span class="visually-hidden">Loading</span>
    </span>
  ) : (
    <span>—</span>
  );
}
