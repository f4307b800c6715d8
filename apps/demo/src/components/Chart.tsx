// Live line charts and histograms on uPlot: created once, fed new data as training goes, sized
// to their container. Series differ by dash as well as by colour, and the legend names them.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  dash?: number[];
  points?: boolean;
}

/** Distinct dash patterns, so series read apart without colour. */
export const DASHES: number[][] = [[], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4], [1, 6], [10, 2, 2, 2, 2, 2]];
export const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b'];

/** A log axis's tick: plain between 0.01 and 10,000, else 1e-6. */
const logTick = (v: number | null): string => (v === null ? '' : v >= 0.01 && v < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(0));

/**
 * The data with every non-finite number replaced by null (a gap); on a log axis also every
 * number ≤ 0, and the rest held within 1e-12…1e12, where uPlot's log ticks work.
 */
const finite = (v: unknown[], log = false): unknown[] =>
  v.map((x) => {
    if (Array.isArray(x)) return finite(x, log);
    if (typeof x !== 'number') return x;
    if (!Number.isFinite(x) || (log && x <= 0)) return null;
    return log ? Math.min(1e12, Math.max(1e-12, x)) : x;
  });

/** uPlot's data: x values kept, y values cleaned for their axis. */
function plotData(data: unknown[], logY: boolean, mode2: boolean): uPlot.AlignedData {
  if (mode2) return [null, ...finite(data)] as unknown as uPlot.AlignedData;
  const [xs, ...ys] = data;
  return [finite(xs as unknown[]), ...ys.map((y) => finite(y as unknown[], logY))] as unknown as uPlot.AlignedData;
}

export function LineChart(props: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: SeriesSpec[];
  /** [xs, ys1, ys2, …]; null where a series has no value at that x. */
  data: unknown[];
  logY?: boolean;
  height?: number;
  bars?: boolean;
  /** Draws under the series (the optimizer race's contours). */
  background?: (u: uPlot) => void;
  xRange?: [number, number];
  yRange?: [number, number];
  mode2?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const background = useRef(props.background);
  background.current = props.background;
  // uPlot's scales need finite numbers: a diverged loss (Infinity, NaN) is a gap in the line.
  const key = props.series.map((s) => s.label).join('|') + (props.logY ? 'log' : '') + (props.mode2 ? 'xy' : '');
  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      title: props.title,
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 240,
      mode: props.mode2 ? 2 : 1,
      scales: {
        x: { time: false, ...(props.xRange ? { range: props.xRange } : {}) },
        y: { distr: props.logY ? 3 : 1, ...(props.yRange ? { range: props.yRange } : {}) },
      },
      axes: [{ label: props.xLabel }, { label: props.yLabel, ...(props.logY ? { values: (_u: uPlot, splits: number[]) => splits.map(logTick) } : {}) }],
      legend: { show: !props.bars },
      series: [
        props.mode2 ? {} : { label: props.xLabel },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          points: { show: s.points ?? false },
          ...(props.bars ? { paths: uPlot.paths.bars!({ size: [0.9] }), fill: `${s.color}88` } : {}),
        })),
      ],
      hooks: { drawClear: [(u) => background.current?.(u)] },
    };
    const data = plotData(props.data, props.logY === true, props.mode2 === true);
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 240 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [key]);
  useEffect(() => {
    plot.current?.setData(plotData(props.data, props.logY === true, props.mode2 === true));
  }, [props.data]);
  return <div class="chart" ref={box} role="img" aria-label={`${props.title}: ${props.yLabel} against ${props.xLabel}`} />;
}
