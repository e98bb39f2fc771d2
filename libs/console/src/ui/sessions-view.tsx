import { consoleEndpoints } from '../logic/console-endpoints';
import { sessionHref } from '../logic/console-route';
import { displayApiTime } from '../logic/api-time';
import { describePage } from '../logic/list-paging';
import type { SessionListResponse } from '../logic/masking-session.types';
import { formatCount, formatPhoneNumber } from '../logic/phone-number-format';
import { buildSessionSearchQuery, SESSIONS_PAGE_SIZE } from '../logic/session-search-query';
import { useAuthId, useConsole } from './console-context';
import type { SessionsSearchState } from './console-shell';
import { ErrorAlert } from './error-alert';
import { PageHeading } from './page-heading';
import { PagerControls } from './pager-controls';
import { ScrollTable } from './scroll-table';
import { SessionSearchForm } from './session-search-form';
import { sessionStatusLabel, sessionStatusTone, StatusBadge } from './status-badge';
import { useApiResource } from './use-api-resource';

const COLUMNS = ['Session', 'Parties', 'Virtual number', 'Status', 'Created', 'Expires', 'Calls', 'Messages'];

export function SessionsView({
  search,
  onSearch,
}: {
  search: SessionsSearchState;
  onSearch: (search: SessionsSearchState) => void;
}) {
  const { client } = useConsole();
  const authId = useAuthId();
  const built = buildSessionSearchQuery(search.form, { limit: SESSIONS_PAGE_SIZE, offset: search.offset });
  const query = built.ok ? built.query : '';
  const list = useApiResource(
    (signal) => client.get<SessionListResponse>(consoleEndpoints.sessions(authId, query), signal),
    [authId, query],
  );
  const meta = list.data?.response.meta;
  const rows = list.data?.response.objects ?? [];

  return (
    <section class="view">
      <PageHeading>Sessions</PageHeading>
      <SessionSearchForm
        initial={search.form}
        onSearch={(form) => {
          // Searching again for the same thing refreshes the list.
          if (search.offset === 0 && JSON.stringify(form) === JSON.stringify(search.form)) list.reload();
          else onSearch({ form, offset: 0 });
        }}
      />
      <div class="results" aria-busy={list.loading}>
        {list.error ? <ErrorAlert message={list.error} onRetry={list.reload} /> : null}
        {list.data === null && list.loading ? <p class="loading-note">Loading sessions…</p> : null}
        {list.data !== null && rows.length === 0 ? (
          <p class="empty-state">
            No sessions match. Widen the time range or clear a filter; new sessions appear here as soon as
            they are created.
          </p>
        ) : null}
        {rows.length > 0 ? (
          <ScrollTable caption="Sessions" columns={COLUMNS}>
            {rows.map((s) => (
              <tr key={s.session_uuid}>
                <th scope="row" class="cell-id">
                  <a href={sessionHref(s.session_uuid)}>{s.session_uuid}</a>
                </th>
                <td class="cell-nowrap">
                  {formatPhoneNumber(s.first_party)}
                  <br />
                  {formatPhoneNumber(s.second_party)}
                </td>
                <td class="cell-nowrap">{formatPhoneNumber(s.virtual_number)}</td>
                <td>
                  <StatusBadge tone={sessionStatusTone(s.status)}>{sessionStatusLabel(s.status)}</StatusBadge>
                </td>
                <td class="cell-nowrap">{displayApiTime(s.created_time)}</td>
                <td class="cell-nowrap">{displayApiTime(s.expiry_time)}</td>
                <td class="cell-number">{formatCount(s.total_call_count ?? null)}</td>
                <td class="cell-number">{formatCount(s.total_message_count ?? null)}</td>
              </tr>
            ))}
          </ScrollTable>
        ) : null}
        {meta ? (
          <PagerControls
            page={describePage(meta, rows.length)}
            label="Sessions pages"
            disabled={list.loading}
            onOffset={(offset) => onSearch({ form: search.form, offset })}
          />
        ) : null}
      </div>
    </section>
  );
}
