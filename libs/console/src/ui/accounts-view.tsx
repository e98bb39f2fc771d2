import { useState } from 'preact/hooks';
import { displayApiTime } from '../logic/api-time';
import { consoleEndpoints } from '../logic/console-endpoints';
import { describePage } from '../logic/list-paging';
import type { AccountListResponse, OperatorAccount } from '../logic/operator.types';
import { formatCount } from '../logic/phone-number-format';
import { useConsole } from './console-context';
import { ErrorAlert } from './error-alert';
import { PageHeading } from './page-heading';
import { PagerControls } from './pager-controls';
import { ScrollTable } from './scroll-table';
import { StatusBadge } from './status-badge';
import { useApiResource } from './use-api-resource';

const PAGE_SIZE = 20;

/** The operator's list of accounts. */
export function AccountsView() {
  const { client } = useConsole();
  const [offset, setOffset] = useState(0);
  const accounts = useApiResource(
    (signal) => client.get<AccountListResponse>(consoleEndpoints.operatorAccounts(PAGE_SIZE, offset), signal),
    [offset],
  );
  const rows = accounts.data?.objects ?? [];

  return (
    <section class="view">
      <div class="view-head">
        <PageHeading>Accounts</PageHeading>
        <button type="button" class="button-secondary" onClick={accounts.reload} disabled={accounts.loading}>
          Refresh
        </button>
      </div>
      <div class="results" aria-busy={accounts.loading}>
        {accounts.error ? <ErrorAlert message={accounts.error} onRetry={accounts.reload} /> : null}
        {accounts.data === null && accounts.loading ? <p class="loading-note">Loading accounts…</p> : null}
        {accounts.data !== null && rows.length === 0 ? (
          <p class="empty-state">
            No accounts yet. Accounts appear here once they are created through the admin API.
          </p>
        ) : null}
        {rows.length > 0 ? (
          <ScrollTable caption="Accounts" columns={['Auth ID', 'Name', 'Enabled', 'Created', 'Subaccounts']}>
            {rows.map((account) => (
              <tr key={account.auth_id}>
                <th scope="row" class="cell-id">
                  {account.auth_id}
                </th>
                <td>{account.name}</td>
                <td>
                  <StatusBadge tone={account.enabled ? 'good' : 'neutral'}>
                    {account.enabled ? 'Yes' : 'No'}
                  </StatusBadge>
                </td>
                <td class="cell-nowrap">{displayApiTime(account.created_time ?? account.created ?? null)}</td>
                <td class="cell-number">{subaccountCount(account)}</td>
              </tr>
            ))}
          </ScrollTable>
        ) : null}
        {accounts.data?.meta ? (
          <PagerControls
            page={describePage(accounts.data.meta, rows.length)}
            label="Account pages"
            disabled={accounts.loading}
            onOffset={setOffset}
          />
        ) : null}
      </div>
    </section>
  );
}

function subaccountCount(account: OperatorAccount): string {
  const value = account.subaccounts;
  if (Array.isArray(value)) return formatCount(value.length);
  return formatCount(typeof value === 'number' ? value : null);
}
