import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { isolatedIndices } from '../logic/isolated-points';

export interface ChartSeries {
  label: string;
  /** Stroke colour; the legend beside the chart names the series in words. */
  color: string;
  values: (number | null)[];
  dash?: number[];
  /** 'count' (left axis) or 'ms' (right axis, latency). */
  scale?: 'count' | 'ms';
}

const AXIS_COLOR = '#3d4450';
const GRID_COLOR = '#e3e6ea';
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/**
 * A uPlot line chart that fills its container's width (followed with a ResizeObserver) at a fixed height, so
 * the page never shifts when it appears. Times are drawn in UTC like everywhere else in the console. The
 * canvas is hidden from assistive technology: each chart comes with a table of the same figures.
 */
export const CHART_HEIGHT = 240; // keep in step with .chart-canvas in console.css

export function TimeSeriesChart({ x, series }: { x: number[]; series: ChartSeries[] }) {
  const height = CHART_HEIGHT;
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const hasMs = series.some((s) => s.scale === 'ms');
    const axes: uPlot.Axis[] = [
      {
        stroke: AXIS_COLOR,
        font: FONT,
        grid: { stroke: GRID_COLOR, width: 1 },
        ticks: { stroke: GRID_COLOR },
        values: (_u, ticks) => ticks.map(utcTickLabel),
      },
      {
        scale: 'count',
        stroke: AXIS_COLOR,
        font: FONT,
        grid: { stroke: GRID_COLOR, width: 1 },
        ticks: { stroke: GRID_COLOR },
        values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')),
      },
    ];
    if (hasMs) {
      axes.push({
        scale: 'ms',
        side: 1,
        stroke: AXIS_COLOR,
        font: FONT,
        grid: { show: false },
        ticks: { stroke: GRID_COLOR },
        values: (_u, ticks) => ticks.map((t) => `${t} ms`),
        size: 64,
      });
    }
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        count: { range: (_u, _min, max) => [0, niceMax(max)] },
        ms: { range: (_u, _min, max) => [0, niceMax(max)] },
      },
      axes,
      series: [
        {},
        ...series.map<uPlot.Series>((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          scale: s.scale ?? 'count',
          spanGaps: false,
          // A sample with no neighbour (one minute among empty ones) shows as a dot, not as nothing.
          points: { show: true, size: 6, fill: s.color, filter: isolatedIndices(s.values) },
        })),
      ],
    };
    const data: uPlot.AlignedData = [x, ...series.map((s) => s.values)];
    const chart = new uPlot(options, data, element);
    const observer = new ResizeObserver((entries) => {
      const width = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (width > 0 && width !== chart.width) chart.setSize({ width, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [x, series, height]);

  return <div class="chart-canvas" ref={container} aria-hidden="true" />;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "16:00" in UTC, and the date ("11-29") at midnight. */
function utcTickLabel(seconds: number): string {
  const d = new Date(seconds * 1000);
  if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0)
    return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function niceMax(max: number | null | undefined): number {
  if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) return 1;
  return Math.ceil(max * 1.1);
}
