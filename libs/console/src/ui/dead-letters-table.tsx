import { useState } from 'preact/hooks';
import { displayApiTime } from '../logic/api-time';
import type { DeadLetter, ReplayResponse } from '../logic/callbacks.types';
import { consoleEndpoints } from '../logic/console-endpoints';
import { sessionHref } from '../logic/console-route';
import { errorText, SessionEndedError } from './api-client';
import { useAuthId, useConsole } from './console-context';
import { ErrorAlert } from './error-alert';
import { ScrollTable } from './scroll-table';

const COLUMNS = ['Event', 'Session', 'URL', 'Reason', 'Attempts', 'Time', 'Replayed'];

/**
 * Callbacks whose last retry failed. A letter not replayed yet has a "Replay" button; after the server accepts
 * the replay the list is loaded again (the letter then shows when it was replayed).
 */
export function DeadLettersTable({
  letters,
  caption,
  emptyText,
  onReplayed,
}: {
  letters: DeadLetter[];
  caption: string;
  emptyText: string;
  onReplayed: () => void;
}) {
  const { client } = useConsole();
  const authId = useAuthId();
  const [busyEvent, setBusyEvent] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | null>(null);

  const replay = async (letter: DeadLetter): Promise<void> => {
    setBusyEvent(letter.event_id);
    setStatus('');
    setError(null);
    try {
      await client.request<ReplayResponse>('POST', consoleEndpoints.replayDeadLetter(authId), {
        body: { event_id: letter.event_id },
      });
      setStatus('Replay requested');
      onReplayed();
    } catch (caught) {
      if (!(caught instanceof SessionEndedError))
        setError(`Replay of ${letter.event_name} failed: ${errorText(caught)}`);
    } finally {
      setBusyEvent(null);
    }
  };

  return (
    <div class="dead-letters">
      <p class="status-line" role="status">
        {status}
      </p>
      {error ? <ErrorAlert message={error} /> : null}
      {letters.length === 0 ? (
        <p class="empty-state">{emptyText}</p>
      ) : (
        <ScrollTable caption={caption} captionHidden columns={COLUMNS}>
          {letters.map((letter) => {
            const eventCell = `dead-letter-${letter.event_id}`;
            return (
              <tr key={letter.event_id}>
                <th scope="row" id={eventCell}>
                  {letter.event_name}
                  <span class="cell-sub">{letter.event_id}</span>
                </th>
                <td class="cell-id">
                  {letter.session_uuid ? (
                    <a href={sessionHref(letter.session_uuid)}>{letter.session_uuid}</a>
                  ) : (
                    '—'
                  )}
                </td>
                <td class="cell-url">{letter.url}</td>
                <td>{letter.reason}</td>
                <td class="cell-number">{letter.attempts}</td>
                <td class="cell-nowrap">{displayApiTime(letter.time)}</td>
                <td class="cell-nowrap">
                  {letter.replayed_time ? (
                    displayApiTime(letter.replayed_time)
                  ) : (
                    <button
                      type="button"
                      class="button-secondary button-small"
                      aria-describedby={eventCell}
                      disabled={busyEvent !== null}
                      onClick={() => replay(letter)}
                    >
                      Replay
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </ScrollTable>
      )}
    </div>
  );
}
