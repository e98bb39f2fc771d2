import { useMemo } from 'preact/hooks';
import { formatUtcMinute } from '../logic/api-time';
import { consoleEndpoints } from '../logic/console-endpoints';
import { buildPinSecuritySeries } from '../logic/hourly-series';
import { formatCount, formatPhoneNumber } from '../logic/phone-number-format';
import type { PinSecurityResponse } from '../logic/pin-security.types';
import { ChartFigure } from './chart-figure';
import { useAuthId, useConsole } from './console-context';
import { ErrorAlert } from './error-alert';
import { FailureCountsPanel } from './failure-counts-panel';
import { PageHeading } from './page-heading';
import { ScrollTable } from './scroll-table';
import { StatCard, StatCards } from './stat-card';
import type { ChartSeries } from './time-series-chart';
import { useApiResource } from './use-api-resource';

const HOURS = 24;

/** PIN failures and lockouts over the last 24 hours, by virtual number and by (masked) caller. */
export function PinSecurityView() {
  const { client } = useConsole();
  const authId = useAuthId();
  const report = useApiResource(
    (signal) => client.get<PinSecurityResponse>(consoleEndpoints.pinSecurity(authId, HOURS), signal),
    [authId],
  );
  const series = useMemo(
    () => (report.data ? buildPinSecuritySeries(report.data.buckets ?? [], Date.now(), HOURS) : null),
    [report.data],
  );
  const chartSeries = useMemo<ChartSeries[]>(
    () => [
      { label: 'Failures', color: '#b35900', values: series?.failures ?? [] },
      { label: 'Lockouts', color: '#a40e26', values: series?.lockouts ?? [], dash: [6, 4] },
    ],
    [series],
  );
  const byNumber = report.data?.by_number ?? [];
  const byCaller = report.data?.by_caller ?? [];

  return (
    <section class="view">
      <div class="view-head">
        <PageHeading>PIN security</PageHeading>
        <button type="button" class="button-secondary" onClick={report.reload} disabled={report.loading}>
          Refresh
        </button>
      </div>
      {report.error ? <ErrorAlert message={report.error} onRetry={report.reload} /> : null}
      <StatCards label="PIN prompts, last 24 hours">
        <StatCard label="Successful PINs" loading={!series} value={formatCount(series?.totals.successes)} />
        <StatCard
          label="Failed PINs"
          loading={!series}
          value={formatCount(series?.totals.failures)}
          tone={series && series.totals.failures > 0 ? 'warn' : 'neutral'}
        />
        <StatCard
          label="Lockouts"
          loading={!series}
          value={formatCount(series?.totals.lockouts)}
          tone={series && series.totals.lockouts > 0 ? 'bad' : 'neutral'}
        />
      </StatCards>

      <section class="panel" aria-labelledby="pin-chart-title">
        <h2 id="pin-chart-title" class="visually-hidden">
          Per hour
        </h2>
        <ChartFigure
          caption="PIN failures and lockouts per hour, last 24 hours"
          x={series?.x ?? null}
          series={chartSeries}
          loading={report.loading}
          alternativeLabel="Hourly figures as a table"
          alternative={
            series ? (
              <ScrollTable
                caption="PIN failures and lockouts per hour, last 24 hours (UTC)"
                columns={['Hour (UTC)', 'Failures', 'Lockouts']}
              >
                {series.x.map((x, i) => (
                  <tr key={x}>
                    <th scope="row" class="cell-nowrap">
                      {formatUtcMinute(x * 1000)}
                    </th>
                    <td class="cell-number">{formatCount(series.failures[i])}</td>
                    <td class="cell-number">{formatCount(series.lockouts[i])}</td>
                  </tr>
                ))}
              </ScrollTable>
            ) : (
              <p>{report.loading ? 'Loading…' : 'No figures to show.'}</p>
            )
          }
        />
      </section>

      <div class="two-columns">
        <FailureCountsPanel
          id="pin-by-number"
          title="By number"
          column="Virtual number"
          empty="No failed PINs on any virtual number in the last 24 hours."
          loading={report.loading}
          rows={
            report.data
              ? byNumber.map((row) => ({
                  ...row,
                  key: row.virtual_number,
                  label: formatPhoneNumber(row.virtual_number),
                }))
              : null
          }
        />
        <FailureCountsPanel
          id="pin-by-caller"
          title="By caller"
          column="Caller (masked)"
          empty="No caller failed a PIN in the last 24 hours."
          loading={report.loading}
          rows={
            report.data
              ? byCaller.map((row, index) => ({
                  ...row,
                  key: row.caller_key ?? `${row.caller}-${index}`,
                  label: row.caller,
                }))
              : null
          }
        />
      </div>
    </section>
  );
}
