import { useMemo, useState } from 'preact/hooks';
import { formatUtc, formatUtcMinute } from '../logic/api-time';
import { consoleEndpoints } from '../logic/console-endpoints';
import { formatCount } from '../logic/phone-number-format';
import {
  adviseHeadroom,
  DEFAULT_HEADROOM_PERCENT,
  describeHeadroom,
  MAX_HEADROOM_PERCENT,
  readHeadroomPercent,
} from '../logic/pool-headroom';
import type { UtilizationHistoryResponse, UtilizationResponse } from '../logic/utilization.types';
import { buildUtilizationSeries } from '../logic/utilization-series';
import { ChartFigure } from './chart-figure';
import { useAuthId, useConsole } from './console-context';
import { ErrorAlert } from './error-alert';
import { PageHeading } from './page-heading';
import { ScrollTable } from './scroll-table';
import { StatCard, StatCards } from './stat-card';
import type { ChartSeries } from './time-series-chart';
import { useApiResource } from './use-api-resource';

const HOURS = 24;

/** The number pool now and over the last 24 hours, and how many numbers to add for a chosen headroom. */
export function PoolView() {
  const { client } = useConsole();
  const authId = useAuthId();
  const now = useApiResource(
    (signal) => client.get<UtilizationResponse>(consoleEndpoints.utilization(authId), signal),
    [authId],
  );
  const history = useApiResource(
    (signal) =>
      client.get<UtilizationHistoryResponse>(consoleEndpoints.utilizationHistory(authId, HOURS), signal),
    [authId],
  );
  const [headroomText, setHeadroomText] = useState(String(DEFAULT_HEADROOM_PERCENT));

  const series = useMemo(
    () =>
      history.data
        ? buildUtilizationSeries(history.data.points ?? [], Date.now(), HOURS, history.data.exhaustions)
        : null,
    [history.data],
  );
  const chartSeries = useMemo<ChartSeries[]>(
    () => [
      { label: 'Numbers in use', color: '#1f5fbf', values: series?.numbersInUse ?? [] },
      { label: 'Numbers total', color: '#5b6470', values: series?.numbersTotal ?? [], dash: [6, 4] },
    ],
    [series],
  );

  const pool = now.data;
  const reading = readHeadroomPercent(headroomText);
  const advice =
    pool && reading.ok
      ? adviseHeadroom(
          {
            numbersTotal: pool.numbers_total,
            numbersInUse: pool.numbers_in_use,
            plivoRuleNumbers: pool.plivo_rule_numbers,
            peakInUse: series?.peakInUse ?? null,
          },
          reading.percent,
        )
      : null;

  const refresh = (): void => {
    now.reload();
    history.reload();
  };

  return (
    <section class="view">
      <div class="view-head">
        <PageHeading>Pool</PageHeading>
        <button
          type="button"
          class="button-secondary"
          onClick={refresh}
          disabled={now.loading || history.loading}
        >
          Refresh
        </button>
      </div>
      {now.error ? <ErrorAlert context="Pool now" message={now.error} onRetry={now.reload} /> : null}
      <StatCards label="Pool now">
        <StatCard label="Numbers total" loading={!pool} value={formatCount(pool?.numbers_total)} />
        <StatCard
          label="Numbers in use"
          loading={!pool}
          value={formatCount(pool?.numbers_in_use)}
          note={
            pool && pool.numbers_total > 0
              ? `${Math.round((pool.numbers_in_use / pool.numbers_total) * 100)}% of the pool`
              : ''
          }
        />
        <StatCard
          label="Live sessions"
          loading={!pool}
          value={formatCount(pool?.live_sessions)}
          note={
            pool
              ? `per number: max ${formatCount(pool.sessions_per_number.max)}, mean ${pool.sessions_per_number.mean.toFixed(1)}`
              : ''
          }
        />
        <StatCard
          label="Δ (busiest party)"
          loading={!pool}
          value={formatCount(pool?.delta)}
          note={pool ? `vs ${formatCount(pool.numbers_in_use)} numbers in use` : ''}
        />
        <StatCard
          label="Plivo rule (2Δ−1)"
          loading={!pool}
          value={formatCount(pool?.plivo_rule_numbers)}
          note="pool size the rule asks for Δ"
          tone={pool && pool.plivo_rule_numbers > pool.numbers_total ? 'bad' : 'neutral'}
        />
      </StatCards>

      <section class="panel" aria-labelledby="pool-headroom-title">
        <h2 id="pool-headroom-title">Headroom</h2>
        <div class="headroom">
          <div class="field field-inline">
            <label for="pool-headroom">Headroom (%)</label>
            <input
              id="pool-headroom"
              type="number"
              inputMode="decimal"
              min={0}
              max={MAX_HEADROOM_PERCENT}
              step={1}
              value={headroomText}
              onInput={(e) => setHeadroomText(e.currentTarget.value)}
              aria-invalid={reading.ok ? undefined : true}
              aria-describedby="pool-headroom-advice pool-headroom-rule"
            />
          </div>
          <p id="pool-headroom-advice" class="headroom-advice" aria-live="polite">
            {!reading.ok
              ? reading.message
              : advice
                ? describeHeadroom(advice)
                : now.loading
                  ? 'Calculating…'
                  : ''}
          </p>
        </div>
        <p id="pool-headroom-rule" class="hint">
          Needed = the largest of numbers in use now, the peak in use over the last 24 hours and Plivo’s rule
          (2Δ−1). Numbers to add = needed × (1 + headroom ÷ 100), rounded up, minus numbers total; never below
          0.
          {advice ? ` Now: needed ${advice.needed}, target ${advice.target}.` : ''}
        </p>
      </section>

      <section class="panel" aria-labelledby="pool-history-title">
        <h2 id="pool-history-title" class="visually-hidden">
          History
        </h2>
        {history.error ? (
          <ErrorAlert context="Pool history" message={history.error} onRetry={history.reload} />
        ) : null}
        <ChartFigure
          caption="Numbers in use, last 24 hours"
          x={series?.x ?? null}
          series={chartSeries}
          loading={history.loading}
          alternativeLabel="Hourly summary as a table"
          alternative={
            series ? (
              <ScrollTable
                caption="Numbers in use per hour, last 24 hours (UTC)"
                columns={['Hour (UTC)', 'Peak in use', 'Numbers total', 'Refused allocations']}
              >
                {series.hourly.map((row) => (
                  <tr key={row.hour}>
                    <th scope="row" class="cell-nowrap">
                      {formatUtcMinute(row.hour)}
                    </th>
                    <td class="cell-number">{row.samples > 0 ? formatCount(row.peakInUse) : 'no data'}</td>
                    <td class="cell-number">{row.samples > 0 ? formatCount(row.numbersTotal) : 'no data'}</td>
                    <td class="cell-number">{formatCount(row.exhaustions)}</td>
                  </tr>
                ))}
              </ScrollTable>
            ) : (
              <p>{history.loading ? 'Loading…' : 'No history to show.'}</p>
            )
          }
        />
      </section>

      <section class="panel" aria-labelledby="pool-exhaustion-title">
        <h2 id="pool-exhaustion-title">Allocations refused for lack of numbers</h2>
        {series === null ? (
          <p class="loading-note">{history.loading ? 'Loading…' : 'History could not be loaded.'}</p>
        ) : series.exhaustions.length === 0 ? (
          <p class="empty-state">No exhaustion in the last 24 hours.</p>
        ) : (
          <ul class="exhaustion-list">
            {series.exhaustions.map((e) => (
              <li key={e.time}>
                <time dateTime={new Date(e.time).toISOString()}>{formatUtc(e.time)}</time>:{' '}
                {e.count === 1 ? '1 allocation refused' : `${formatCount(e.count)} allocations refused`}
              </li>
            ))}
          </ul>
        )}
        {series && series.exhaustions.length > 0 ? (
          <p class="hint">Add numbers to the pool (see Headroom) so new sessions are not refused.</p>
        ) : null}
      </section>

      <section class="panel" aria-labelledby="pool-countries-title">
        <h2 id="pool-countries-title" class="visually-hidden">
          Countries
        </h2>
        {pool ? (
          pool.numbers_by_country.length === 0 ? (
            <p class="empty-state">No numbers in the pool yet. Add numbers to start creating sessions.</p>
          ) : (
            <ScrollTable caption="Numbers per country" columns={['Country', 'Numbers', 'In use']}>
              {pool.numbers_by_country.map((c) => (
                <tr key={c.country}>
                  <th scope="row">{c.country}</th>
                  <td class="cell-number">{formatCount(c.numbers_total)}</td>
                  <td class="cell-number">{formatCount(c.numbers_in_use)}</td>
                </tr>
              ))}
            </ScrollTable>
          )
        ) : (
          <p class="loading-note">{now.loading ? 'Loading numbers per country…' : ''}</p>
        )}
      </section>
    </section>
  );
}
