import { useMemo, useState } from 'preact/hooks';
import { displayApiTime, formatUtcMinute } from '../logic/api-time';
import type { CallbackStatsResponse, DeadLetterListResponse } from '../logic/callbacks.types';
import { consoleEndpoints } from '../logic/console-endpoints';
import { buildCallbackSeries, formatSuccessRate, successRateTone } from '../logic/hourly-series';
import { describePage } from '../logic/list-paging';
import { formatCount } from '../logic/phone-number-format';
import { ChartFigure } from './chart-figure';
import { useAuthId, useConsole } from './console-context';
import { DeadLettersTable } from './dead-letters-table';
import { ErrorAlert } from './error-alert';
import { PageHeading } from './page-heading';
import { PagerControls } from './pager-controls';
import { ScrollTable } from './scroll-table';
import { StatCard, StatCards } from './stat-card';
import type { ChartSeries } from './time-series-chart';
import { useApiResource } from './use-api-resource';

const HOURS = 24;
const DEAD_LETTERS_PAGE_SIZE = 20;

const RATE_NOTES = {
  good: 'Healthy',
  warn: 'Needs a look: some callbacks fail',
  bad: 'Poor: many callbacks fail',
  neutral: 'No callback attempts in the last 24 hours',
} as const;

/** Callback delivery over the last 24 hours, the endpoints that fail, and dead letters to replay. */
export function CallbacksView() {
  const { client } = useConsole();
  const authId = useAuthId();
  const stats = useApiResource(
    (signal) => client.get<CallbackStatsResponse>(consoleEndpoints.callbackStats(authId, HOURS), signal),
    [authId],
  );
  const [offset, setOffset] = useState(0);
  const deadLetters = useApiResource(
    (signal) =>
      client.get<DeadLetterListResponse>(
        consoleEndpoints.deadLetters(authId, DEAD_LETTERS_PAGE_SIZE, offset),
        signal,
      ),
    [authId, offset],
  );

  const series = useMemo(
    () => (stats.data ? buildCallbackSeries(stats.data.buckets ?? [], Date.now(), HOURS) : null),
    [stats.data],
  );
  const chartSeries = useMemo<ChartSeries[]>(
    () => [
      { label: 'Delivered', color: '#1a7f37', values: series?.delivered ?? [] },
      { label: 'Failed', color: '#c62828', values: series?.failed ?? [] },
      {
        label: 'p95 latency',
        color: '#6f42c1',
        values: series?.p95LatencyMs ?? [],
        dash: [5, 4],
        scale: 'ms',
      },
    ],
    [series],
  );
  const rate = stats.data?.success_rate ?? null;
  const tone = successRateTone(rate);
  const failing = stats.data?.failing_endpoints ?? [];

  return (
    <section class="view">
      <div class="view-head">
        <PageHeading>Callbacks</PageHeading>
        <button
          type="button"
          class="button-secondary"
          onClick={() => {
            stats.reload();
            deadLetters.reload();
          }}
          disabled={stats.loading || deadLetters.loading}
        >
          Refresh
        </button>
      </div>
      {stats.error ? (
        <ErrorAlert context="Callback statistics" message={stats.error} onRetry={stats.reload} />
      ) : null}
      <StatCards label="Callbacks, last 24 hours">
        <StatCard
          large
          label="Success rate, last 24 hours"
          loading={!stats.data}
          value={formatSuccessRate(rate)}
          note={RATE_NOTES[tone]}
          tone={tone}
        />
        <StatCard label="Delivered" loading={!series} value={formatCount(series?.totals.delivered)} />
        <StatCard
          label="Failed"
          loading={!series}
          value={formatCount(series?.totals.failed)}
          tone={series && series.totals.failed > 0 ? 'bad' : 'neutral'}
        />
        <StatCard label="Retried" loading={!series} value={formatCount(series?.totals.retried)} />
      </StatCards>

      <section class="panel" aria-labelledby="callbacks-chart-title">
        <h2 id="callbacks-chart-title" class="visually-hidden">
          Deliveries per hour
        </h2>
        <ChartFigure
          caption="Callbacks delivered and failed per hour, with p95 latency, last 24 hours"
          x={series?.x ?? null}
          series={chartSeries}
          loading={stats.loading}
          alternativeLabel="Hourly figures as a table"
          alternative={
            series ? (
              <ScrollTable
                caption="Callbacks per hour, last 24 hours (UTC)"
                columns={['Hour (UTC)', 'Delivered', 'Failed', 'p95 latency']}
              >
                {series.x.map((x, i) => (
                  <tr key={x}>
                    <th scope="row" class="cell-nowrap">
                      {formatUtcMinute(x * 1000)}
                    </th>
                    <td class="cell-number">{formatCount(series.delivered[i])}</td>
                    <td class="cell-number">{formatCount(series.failed[i])}</td>
                    <td class="cell-number">
                      {series.p95LatencyMs[i] === null
                        ? '—'
                        : `${Math.round(series.p95LatencyMs[i] ?? 0)} ms`}
                    </td>
                  </tr>
                ))}
              </ScrollTable>
            ) : (
              <p>{stats.loading ? 'Loading…' : 'No figures to show.'}</p>
            )
          }
        />
      </section>

      <section class="panel" aria-labelledby="failing-endpoints-title">
        <h2 id="failing-endpoints-title">Failing endpoints</h2>
        {!stats.data ? (
          <p class="loading-note">{stats.loading ? 'Loading…' : 'Statistics could not be loaded.'}</p>
        ) : failing.length === 0 ? (
          <p class="empty-state">No endpoint failed in the last 24 hours.</p>
        ) : (
          <ScrollTable
            caption="Failing endpoints"
            captionHidden
            columns={['URL', 'Failures', 'Last status', 'Last error', 'Last time']}
          >
            {failing.map((endpoint) => (
              <tr key={endpoint.url}>
                <th scope="row" class="cell-url">
                  {endpoint.url}
                </th>
                <td class="cell-number">{formatCount(endpoint.failures)}</td>
                <td class="cell-nowrap">
                  {endpoint.last_status_code === null ? 'no response' : `HTTP ${endpoint.last_status_code}`}
                </td>
                <td>{endpoint.last_error ?? '—'}</td>
                <td class="cell-nowrap">{displayApiTime(endpoint.last_time)}</td>
              </tr>
            ))}
          </ScrollTable>
        )}
      </section>

      <section class="panel" aria-labelledby="dead-letters-title">
        <h2 id="dead-letters-title">Dead letters</h2>
        {deadLetters.error ? (
          <ErrorAlert context="Dead letters" message={deadLetters.error} onRetry={deadLetters.reload} />
        ) : null}
        {deadLetters.data ? (
          <>
            <DeadLettersTable
              letters={deadLetters.data.objects ?? []}
              caption="Dead letters"
              emptyText="No dead letters. Failed callbacks land here after their last retry."
              onReplayed={deadLetters.reload}
            />
            {deadLetters.data.meta && deadLetters.data.meta.total_count > 0 ? (
              <PagerControls
                page={describePage(deadLetters.data.meta, deadLetters.data.objects.length)}
                label="Dead letter pages"
                disabled={deadLetters.loading}
                onOffset={setOffset}
              />
            ) : null}
          </>
        ) : deadLetters.loading ? (
          <p class="loading-note">Loading dead letters…</p>
        ) : null}
      </section>
    </section>
  );
}
