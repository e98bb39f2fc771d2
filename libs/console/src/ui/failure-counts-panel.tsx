import { formatCount } from '../logic/phone-number-format';
import { ScrollTable } from './scroll-table';

export interface FailureCountsRow {
  key: string;
  label: string;
  failures: number;
  lockouts: number;
}

/** A panel listing PIN failures and lockouts per thing (a number, a caller), with its loading and empty states. */
export function FailureCountsPanel({
  id,
  title,
  column,
  empty,
  rows,
  loading,
}: {
  id: string;
  title: string;
  column: string;
  empty: string;
  rows: FailureCountsRow[] | null;
  loading: boolean;
}) {
  return (
    <section class="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {!rows ? (
        <p class="loading-note">{loading ? 'Loading…' : ''}</p>
      ) : rows.length === 0 ? (
        <p class="empty-state">{empty}</p>
      ) : (
        <ScrollTable caption={title} captionHidden columns={[column, 'Failures', 'Lockouts']}>
          {rows.map((row) => (
            <tr key={row.key}>
              <th scope="row" class="cell-nowrap">
                {row.label}
              </th>
              <td class="cell-number">{formatCount(row.failures)}</td>
              <td class="cell-number">{formatCount(row.lockouts)}</td>
            </tr>
          ))}
        </ScrollTable>
      )}
    </section>
  );
}
