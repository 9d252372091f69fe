'use client';
import type { Step, Swimlane as Lanes } from '../lib/saga';
import { SERVICES } from '../lib/events';
import { formatMs } from './ui';

const LANE_H = 76;
const COL_W = 136;
const LABEL_W = 104;
const STEP_W = 118;
const STEP_H = 46;
const TOP = 8;

const FILL: Record<Step['kind'], { fill: string; stroke: string; text: string }> = {
  step: { fill: '#ecfdf5', stroke: '#059669', text: '#064e3b' },
  failure: { fill: '#fef2f2', stroke: '#dc2626', text: '#7f1d1d' },
  compensation: { fill: '#fffbeb', stroke: '#d97706', text: '#78350f' },
  pending: { fill: '#ffffff', stroke: '#64748b', text: '#334155' },
};

/** A step's outline: an arrow pointing forward, or backward for a compensation (it undoes a step). */
function shape(x: number, y: number, kind: Step['kind']): string {
  const n = 10;
  if (kind === 'compensation') {
    return `M${x + n},${y} H${x + STEP_W} V${y + STEP_H} H${x + n} L${x},${y + STEP_H / 2} Z`;
  }
  return `M${x},${y} H${x + STEP_W - n} L${x + STEP_W},${y + STEP_H / 2} L${x + STEP_W - n},${y + STEP_H} H${x} Z`;
}

function position(step: Step, laneIndex: number) {
  return { x: LABEL_W + step.column * COL_W + 8, y: TOP + laneIndex * LANE_H + (LANE_H - STEP_H) / 2 };
}

/**
 * The saga, one lane per service: each event a step at its place in time (with its offset from the
 * order being placed), arrows from cause to effect, compensations drawn as reverse steps, steps still
 * awaited dashed. The list after the drawing says the same in text.
 */
export function Swimlane({ lanes, caption }: { lanes: Lanes; caption: string }) {
  const width = LABEL_W + Math.max(lanes.columns, 4) * COL_W + 24;
  const height = TOP * 2 + lanes.lanes.length * LANE_H;
  const laneOf = (s: Step) => lanes.lanes.indexOf(s.lane);
  const byKey = new Map(lanes.steps.map((s) => [s.key, s]));
  return (
    <figure className="m-0">
      <div className="overflow-x-auto rounded-md border border-slate-200 bg-slate-50">
        <svg width={width} height={height} role="img" aria-labelledby="swimlane-caption" className="block">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" fill="#94a3b8" />
            </marker>
          </defs>
          {lanes.lanes.map((lane, i) => (
            <g key={lane}>
              <rect x={0} y={TOP + i * LANE_H} width={width} height={LANE_H} fill={i % 2 ? '#f8fafc' : '#f1f5f9'} />
              <text x={12} y={TOP + i * LANE_H + LANE_H / 2 + 5} fontSize={13} fontWeight={600} fill="#334155">
                {SERVICES[lane].label}
              </text>
            </g>
          ))}
          {lanes.steps.map((s) => {
            const cause = s.causedBy ? byKey.get(s.causedBy) : undefined;
            if (!cause) return null;
            const a = position(cause, laneOf(cause));
            const b = position(s, laneOf(s));
            const x1 = a.x + STEP_W;
            const y1 = a.y + STEP_H / 2;
            const x2 = b.x;
            const y2 = b.y + STEP_H / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path
                key={`link:${s.key}`}
                d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 2},${y2}`}
                fill="none"
                stroke="#94a3b8"
                strokeWidth={1.25}
                markerEnd="url(#arrow)"
              />
            );
          })}
          {lanes.steps.map((s) => {
            const { x, y } = position(s, laneOf(s));
            const look = FILL[s.kind];
            const textX = s.kind === 'compensation' ? x + 16 : x + 8;
            return (
              <g key={s.key} data-step={s.type} data-state={s.kind === 'pending' ? 'pending' : 'done'} data-kind={s.kind}>
                <title>{`${SERVICES[s.lane].label}: ${s.label}${s.offsetMs !== null ? ` at +${formatMs(s.offsetMs)}` : ' (awaited)'}${s.detail && s.kind !== 'pending' ? ` — ${s.detail}` : ''}`}</title>
                <path
                  d={shape(x, y, s.kind)}
                  fill={look.fill}
                  stroke={look.stroke}
                  strokeWidth={1.5}
                  strokeDasharray={s.kind === 'pending' ? '5 4' : undefined}
                  className={s.kind === 'pending' ? 'animate-pulse' : undefined}
                />
                <text x={textX} y={y + 19} fontSize={12} fontWeight={600} fill={look.text}>
                  {s.kind === 'compensation' ? `↩ ${s.label}` : s.label}
                </text>
                <text x={textX} y={y + 35} fontSize={11} fill="#475569">
                  {s.offsetMs === null ? 'awaited…' : `+${formatMs(s.offsetMs)}`}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption id="swimlane-caption" className="mt-2 text-sm text-slate-700">
        {caption}
      </figcaption>
      <ol className="sr-only">
        {lanes.steps.map((s) => (
          <li key={s.key}>
            {SERVICES[s.lane].label}: {s.label}
            {s.kind === 'compensation' ? ' (compensation)' : ''}
            {s.offsetMs === null ? ', awaited' : `, at +${formatMs(s.offsetMs)}`}
          </li>
        ))}
      </ol>
    </figure>
  );
}
