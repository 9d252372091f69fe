'use client';
import { useEffect, useRef } from 'react';
import type uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  color: string;
  /** Bars instead of a line. */
  bars?: boolean;
  dash?: number[];
}

interface ChartProps {
  /** Names the chart for assistive technology; the data itself is in the text alternative (children). */
  label: string;
  series: ChartSeries[];
  /** x values (epoch seconds) first, then one array per series. */
  data: (number | null)[][];
  height?: number;
  yUnit?: (v: number) => string;
  /** The text alternative: a table or summary of the same data. */
  children: React.ReactNode;
}

/**
 * A uPlot chart (canvas). uPlot is loaded in the browser only and fed new data in place, so a chart
 * updated several times a second costs little main-thread time. A canvas says nothing to a screen
 * reader: the children carry the data in text.
 */
export function Chart({ label, series, data, height = 220, yUnit, children }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;
  const shape = series.map((s) => `${s.label}:${s.bars ? 'b' : 'l'}`).join('|');

  useEffect(() => {
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    void import('uplot').then(({ default: UPlot }) => {
      if (cancelled || !box.current) return;
      const bars = UPlot.paths.bars?.({ size: [0.8, 24], gap: 1 });
      const opts: uPlot.Options = {
        width: box.current.clientWidth || 600,
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [
          { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, space: 90 },
          { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, size: 60, values: yUnit ? (_u, vals) => vals.map((v) => yUnit(v)) : undefined },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: s.bars ? 0 : 1.75,
            fill: s.bars ? s.color : undefined,
            dash: s.dash,
            paths: s.bars ? bars : undefined,
            points: { show: false },
            spanGaps: !s.bars,
            value: yUnit ? (_u: uPlot, v: number | null) => (v === null ? '—' : yUnit(v)) : undefined,
          })),
        ],
      };
      plot.current = new UPlot(opts, latest.current as uPlot.AlignedData, box.current);
      observer = new ResizeObserver(() => {
        if (box.current && plot.current) plot.current.setSize({ width: box.current.clientWidth, height });
      });
      observer.observe(box.current);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its series change; data goes in through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure className="m-0">
      <ul className="mb-1 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700" aria-hidden="true">
        {series.map((s) => (
          <li key={s.label} className="flex items-center gap-1.5">
            <span className="inline-block h-2.5 w-4 rounded-sm" style={{ background: s.color }} />
            {s.label}
          </li>
        ))}
      </ul>
      <div ref={box} role="img" aria-label={label} style={{ minHeight: height }} />
      <figcaption className="mt-2 text-sm">{children}</figcaption>
    </figure>
  );
}
