import type { ComponentChildren } from 'preact';
import { type ChartSeries, TimeSeriesChart } from './time-series-chart';

/**
 * A chart with its caption, a legend in words and a text alternative (a table in a disclosure). While the data
 * loads, a placeholder of exactly the chart's size holds the space.
 */
export function ChartFigure({
  caption,
  x,
  series,
  loading,
  alternativeLabel,
  alternative,
}: {
  caption: string;
  x: number[] | null;
  series: ChartSeries[];
  loading: boolean;
  alternativeLabel: string;
  alternative: ComponentChildren;
}) {
  return (
    <figure class="chart-figure">
      <figcaption>{caption}</figcaption>
      <ul class="chart-legend" aria-label="Legend">
        {series.map((s) => (
          <li key={s.label}>
            <svg width="24" height="8" aria-hidden="true" focusable="false">
              <line
                x1="0"
                y1="4"
                x2="24"
                y2="4"
                stroke={s.color}
                stroke-width="3"
                stroke-dasharray={s.dash ? s.dash.join(' ') : undefined}
              />
            </svg>
            {s.label}
            {s.scale === 'ms' ? ' (right axis)' : ''}
          </li>
        ))}
        <li class="chart-zone">Times in UTC</li>
      </ul>
      {x === null ? (
        <div class="chart-canvas skeleton" aria-busy={loading}>
          <span class="visually-hidden">{loading ? 'Loading chart' : 'No data for the chart'}</span>
        </div>
      ) : (
        <TimeSeriesChart x={x} series={series} />
      )}
      <details class="chart-alternative">
        <summary>{alternativeLabel}</summary>
        {alternative}
      </details>
    </figure>
  );
}
