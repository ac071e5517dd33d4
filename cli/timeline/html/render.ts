import { LANES, type LaneKey, type Mark, type MarkStatus, type SubjectTimeline } from './model';
import { STYLE } from './style';

/** One self-contained HTML page: inline CSS and SVG, no script, nothing fetched at view time. */
export interface HtmlPage {
  title: string;
  /** Shown after the title in the heading, kept on one line when it fits (an instance id). */
  titleSubject?: string;
  /** When the page was made (ISO). */
  generatedAt: string;
  /** Where the facts come from (audit table and region, audit file, simulation). */
  source: string;
  /** What could not be read, or how complete the reading was; shown at the top. */
  notes: string[];
  subjects: SubjectTimeline[];
  /** Trusted HTML before the swimlanes (the simulator's verdict); build it with `esc`. */
  preface?: string;
  /** Fold each subject's detail cards (pages with many subjects). */
  collapse?: boolean;
}

/** Escape for HTML text and quoted attribute values: every string from records goes through here. */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** ISO 8601 in UTC with its zone, milliseconds only when there are some; raw text if unparsable. */
export function isoText(time: string): string {
  const t = Date.parse(time);
  return Number.isNaN(t) ? time : new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}

const timeTag = (time: string) => `<time datetime="${esc(time)}">${esc(isoText(time))}</time>`;

export function renderTimelinePage(page: HtmlPage): string {
  const index =
    page.subjects.length > 1
      ? `<nav class="index"><h2>Subjects (${page.subjects.length})</h2><ul>${page.subjects
          .map((s, i) => `<li><a href="#s-${i}">${esc(s.subject)}</a> ${summaryText(s)}</li>`)
          .join('')}</ul></nav>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)}${page.titleSubject ? ` ${esc(page.titleSubject)}` : ''}</title>
<style>${STYLE}</style></head><body>
<header><h1>${esc(page.title)}${page.titleSubject ? ` <span class="nw">${esc(page.titleSubject)}</span>` : ''}</h1>
<p class="meta">${esc(page.source)} &middot; generated ${timeTag(page.generatedAt)} &middot; all times UTC, ISO 8601</p>
${page.notes.length ? `<ul class="notes">${page.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</header>
${page.preface ?? ''}
${index}
${LEGEND}
${page.subjects.map((s, i) => renderSubject(s, `s-${i}`, page.collapse === true)).join('\n')}
</body></html>
`;
}

function counts(s: SubjectTimeline) {
  const decisions = s.marks.filter((m) => m.kind === 'decision');
  return {
    records: decisions.length,
    events: new Set(s.marks.flatMap((m) => m.eventIds)).size,
    failed: decisions.filter((m) => m.status === 'failed').length,
    intended: decisions.filter((m) => m.status === 'intended').length,
    deadLettered: s.marks.filter((m) => m.kind === 'dead-letter').length,
    errors: s.marks.filter((m) => m.error).length,
  };
}

function summaryText(s: SubjectTimeline): string {
  const c = counts(s);
  const bad = (n: number, text: string) => (n > 0 ? ` &middot; <b class="bad">${n} ${text}</b>` : '');
  return `<span class="summary">${c.records} audit record${c.records === 1 ? '' : 's'} &middot; ${c.events} CloudTrail event${c.events === 1 ? '' : 's'}${bad(c.failed, 'failed')}${bad(c.intended, 'intended, outcome unknown')}${bad(c.deadLettered, 'dead-lettered')}${bad(c.errors, 'with errors')}</span>`;
}

function renderSubject(s: SubjectTimeline, id: string, collapse: boolean): string {
  const head = `<h2>${esc(s.subject)}</h2><p>${summaryText(s)}</p>`;
  if (s.marks.length === 0)
    return `<section class="subject" id="${id}">${head}<p class="empty">No audit record, CloudTrail event or dead-lettered message about ${esc(s.subject)}.</p></section>`;
  const anchors = new Map(s.marks.map((m, i) => [m, `${id}-m${i}`]));
  const recordAnchor = new Map<string, string>();
  for (const m of s.marks)
    if (m.kind === 'decision') for (const r of m.recordIds) recordAnchor.set(r, anchors.get(m) as string);
  const cards = `<ol class="entries">${s.marks.map((m) => card(m, anchors.get(m) as string, recordAnchor)).join('\n')}</ol>`;
  return `<section class="subject" id="${id}">${head}
${chart(s.marks, anchors)}
${collapse ? `<details><summary>${s.marks.length} entries with their evidence</summary>${cards}</details>` : cards}
</section>`;
}

// ---- the swimlane chart ----------------------------------------------------------------------

interface Scale {
  start: number;
  end: number;
  x(time: string | undefined): number;
}

function scaleOf(marks: Mark[]): Scale {
  const times = marks.flatMap((m) =>
    m.time && !Number.isNaN(Date.parse(m.time)) ? [Date.parse(m.time)] : [],
  );
  const lo = times.length ? Math.min(...times) : 0;
  const hi = times.length ? Math.max(...times) : 0;
  const pad = Math.max((hi - lo) * 0.03, 30_000);
  // whole minutes: the range reads as it is labelled
  const start = Math.floor((lo - pad) / 60_000) * 60_000;
  const end = Math.ceil((hi + pad) / 60_000) * 60_000;
  return {
    start,
    end,
    x: (time) => {
      const t = time ? Date.parse(time) : Number.NaN;
      return Number.isNaN(t) ? 0 : ((t - start) / (end - start)) * 100;
    },
  };
}

/** Marks closer than this (percent of the track) go on separate rows, so none hides another. */
const MIN_GAP = 3.2;
const ROW_PX = 18;
const MAX_ROWS = 8;

function rowsOf(xs: number[]): number[] {
  const last: number[] = [];
  return xs.map((x) => {
    let row = last.findIndex((l) => x - l >= MIN_GAP);
    if (row < 0) row = last.length < MAX_ROWS ? last.length : last.indexOf(Math.min(...last));
    last[row] = x;
    return row;
  });
}

function chart(marks: Mark[], anchors: Map<Mark, string>): string {
  const scale = scaleOf(marks);
  const used = new Set(marks.map((m) => m.lane));
  const lanes = LANES.filter((l) => used.has(l.key) || !['dead-letter', 'other'].includes(l.key));
  return `<div class="chart" role="img" aria-label="swimlanes from ${esc(isoText(new Date(scale.start).toISOString()))} to ${esc(isoText(new Date(scale.end).toISOString()))}">
<p class="span">${timeTag(new Date(scale.start).toISOString())} &rarr; ${timeTag(new Date(scale.end).toISOString())}</p>
${axis(scale)}
${lanes.map((l) => lane(l.key, l.label, marks, scale, anchors)).join('\n')}
</div>`;
}

function lane(key: LaneKey, label: string, all: Mark[], scale: Scale, anchors: Map<Mark, string>): string {
  const marks = all.filter((m) => m.lane === key);
  const xs = marks.map((m) => scale.x(m.time));
  const rows = rowsOf(xs);
  const height = (Math.max(0, ...rows) + 1) * ROW_PX + 4;
  const bands = key === 'instance' ? stateBands(marks, scale) : '';
  const body = marks
    .map((m, i) => {
      const style = `left:${(xs[i] ?? 0).toFixed(2)}%;top:${(rows[i] ?? 0) * ROW_PX + 2}px`;
      return `<a class="mk st-${m.status}${m.error ? ' err' : ''}" href="#${anchors.get(m)}" title="${esc(markLabel(m))}" style="${style}">${shape(m.status)}</a>`;
    })
    .join('');
  return `<div class="lane"><div class="ln">${esc(label)}</div><div class="track" style="height:${height}px">${bands}${body}${marks.length ? '' : '<span class="none">no activity</span>'}</div></div>`;
}

/** The instance's state between the state changes the records saw (running, shutting-down, ...). */
function stateBands(marks: Mark[], scale: Scale): string {
  const states = marks.filter((m) => m.kind === 'state');
  return states
    .map((m, i) => {
      const from = scale.x(m.time);
      const to = i + 1 < states.length ? scale.x(states[i + 1]?.time) : 100;
      const state = m.title.replace(/[^a-z-]/g, '');
      return `<span class="band state-${state}" style="left:${from.toFixed(2)}%;width:${Math.max(0, to - from).toFixed(2)}%" title="${esc(`${m.title} from ${isoText(m.time ?? '')}`)}"><span>${esc(m.title)}</span></span>`;
    })
    .join('');
}

function markLabel(m: Mark): string {
  return [
    `${m.time ? isoText(m.time) : 'time unknown'} ${m.title}`,
    m.recordIds.length ? `record ${m.recordIds.join(', ')}` : '',
    m.eventIds.length ? `CloudTrail ${m.eventIds.join(', ')}` : '',
    m.actor ? `actor ${m.actor}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

const STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];

function axis(scale: Scale): string {
  const span = scale.end - scale.start;
  const stepMin = STEPS_MIN.find((s) => span / (s * 60_000) <= 6) ?? 10080;
  const step = stepMin * 60_000;
  const ticks: string[] = [];
  for (let t = Math.ceil(scale.start / step) * step; t <= scale.end; t += step) {
    const iso = new Date(t).toISOString();
    const label = stepMin >= 1440 ? `${iso.slice(0, 10)}Z` : `${iso.slice(11, 16)}Z`;
    ticks.push(
      `<span class="tick" style="left:${(((t - scale.start) / span) * 100).toFixed(2)}%"><time datetime="${iso}">${label}</time></span>`,
    );
  }
  return `<div class="lane axis"><div class="ln"></div><div class="track">${ticks.join('')}</div></div>`;
}

// ---- marks' shapes (inline SVG) and the legend -----------------------------------------------

const SHAPES: Record<MarkStatus, string> = {
  acted: '<circle cx="6" cy="6" r="5"/>',
  skipped: '<circle cx="6" cy="6" r="4" fill="#fff" stroke-width="2"/>',
  refused: '<path d="M6 1 L11 11 L1 11 Z"/>',
  failed: '<path d="M2 2 L10 10 M10 2 L2 10" stroke-width="3" fill="none"/>',
  reported: '<rect x="1.5" y="1.5" width="9" height="9"/>',
  intended: '<circle cx="6" cy="6" r="4.4" fill="#fff" stroke-width="2.6" stroke-dasharray="3.3 1.6"/>',
  event: '<path d="M6 0.5 L11.5 6 L6 11.5 L0.5 6 Z"/>',
  state: '<rect x="4" y="0.5" width="4" height="11" rx="1"/>',
  'dead-letter': '<path d="M1 3 H11 V10 H1 Z M1 3 L6 7 L11 3" stroke-width="1.5" fill="#fff"/>',
  unreadable:
    '<circle cx="6" cy="6" r="5" fill="#fff" stroke-width="1.5"/><path d="M6 8.5v1" stroke-width="1.5"/>',
};

function shape(status: MarkStatus): string {
  return `<svg viewBox="0 0 12 12" width="12" height="12" aria-hidden="true">${SHAPES[status]}</svg>`;
}

const LEGEND_TEXT: Record<MarkStatus, string> = {
  acted: 'acted',
  skipped: 'skipped',
  refused: 'refused',
  failed: 'failed',
  reported: 'reported',
  intended: 'intended, outcome unknown',
  event: 'CloudTrail event (cause or change)',
  state: 'instance state seen',
  'dead-letter': 'dead-lettered message',
  unreadable: 'unreadable record',
};

const LEGEND = `<div class="legend"><ul>${(Object.keys(LEGEND_TEXT) as MarkStatus[])
  .map((s) => `<li><span class="mk st-${s}">${shape(s)}</span> ${LEGEND_TEXT[s]}</li>`)
  .join(
    '',
  )}<li><span class="mk st-acted err">${shape('acted')}</span> red ring: an error (failed call, unresolved evidence)</li></ul></div>`;

// ---- detail cards --------------------------------------------------------------------------------

const LANE_LABEL = new Map(LANES.map((l) => [l.key, l.label]));

function card(m: Mark, anchor: string, recordAnchor: Map<string, string>): string {
  const records = m.recordIds
    .map((r) => {
      const target = recordAnchor.get(r);
      return target && target !== anchor
        ? `<a href="#${target}"><code>${esc(r)}</code></a>`
        : `<code>${esc(r)}</code>`;
    })
    .join(' ');
  const rows: Array<[string, string]> = [
    ...(m.recordIds.length ? [['audit record', records] as [string, string]] : []),
    ...(m.eventIds.length
      ? [['CloudTrail event', m.eventIds.map((e) => `<code>${esc(e)}</code>`).join(' ')] as [string, string]]
      : []),
    ...(m.actor ? [['actor', esc(m.actor)] as [string, string]] : []),
    ...m.facts.filter(([k]) => k !== 'actor').map(([k, v]) => [esc(k), esc(v)] as [string, string]),
  ];
  return `<li class="entry st-${m.status}${m.error ? ' err' : ''}" id="${anchor}"><p class="head">${m.time ? timeTag(m.time) : '<span>time unknown</span>'} <span class="tag">${esc(LANE_LABEL.get(m.lane) ?? m.lane)}</span> <span class="mk st-${m.status}${m.error ? ' err' : ''}">${shape(m.status)}</span> <b>${esc(m.title)}</b></p>
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl></li>`;
}
