/**
 * Scoring an alarm record against labelled windows (what `twinloop evaluate` prints): the NAB
 * score in its three profiles, point-wise precision/recall/F1/FAR, windows caught, delay, alarms
 * per day, and an SVG timeline. Inputs are text, so the same code serves files and tests.
 *
 * Alarm records: JSON lines or CSV, one row per sample or per alarm. A row's time is `tsMs`
 * (ms), `ts`/`timestamp`/`time` (ISO or NAB `YYYY-MM-DD HH:MM:SS`, read as UTC) or the first CSV
 * column; its flag is `anomalous`/`alarm`/`anomaly`/`detection` (true/1) or, when the row has
 * none of those, 1 (a file of alarm events). Optional `value` is plotted.
 * Labels: CSV `start,end` per line, a JSON array of [start, end], or NAB's combined_windows.json
 * (an object keyed by file, pick one with `key`).
 */
import { NAB_PROFILES, NAB_PROFILE_NAMES, nabNormalise, nabRows, nabScoreFile, type NabProfileName } from './nab-score.js';
import { confusion, eventMetrics, pointwise, windowLabels, type EventMetrics, type PointwiseResult } from './point-metrics.js';

export interface AlarmSeries {
  tsMs: number[];
  flags: number[];
  values: (number | undefined)[];
  /** True when the file held only alarm events (no rows without an alarm). */
  eventsOnly: boolean;
}

const FLAG_KEYS = ['anomalous', 'alarm', 'anomaly', 'detection'];
const TIME_KEYS = ['tsMs', 'ts', 'timestamp', 'time', 'datetime'];

/** A time as ms: a number (ms) or a date string (no zone: UTC). */
export function parseTime(x: unknown): number {
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (typeof x === 'string') {
    const s = x.trim();
    if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
    const iso = s.replace(' ', 'T').replace(/(\.\d{3})\d*/, '$1');
    const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + 'Z');
    if (!Number.isNaN(t)) return t;
  }
  throw new Error(`not a time: ${JSON.stringify(x)}`);
}

function flagOf(x: unknown): number {
  return x === true || x === 1 || x === '1' || x === 'true' ? 1 : 0;
}

/** Alarm rows from JSON lines or CSV text (told apart by the first non-blank character). */
export function parseAlarms(text: string): AlarmSeries {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const out: AlarmSeries = { tsMs: [], flags: [], values: [], eventsOnly: true };
  if (lines.length === 0) return out;
  const push = (t: number, flag: number | undefined, v: unknown) => {
    out.tsMs.push(t);
    out.flags.push(flag ?? 1);
    if (flag === 0) out.eventsOnly = false;
    const num = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    out.values.push(typeof num === 'number' && Number.isFinite(num) ? num : undefined);
  };
  if (lines[0].trim().startsWith('{')) {
    lines.forEach((l, i) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`line ${i + 1}: not JSON`);
      }
      const tk = TIME_KEYS.find((k) => o[k] !== undefined);
      if (!tk) throw new Error(`line ${i + 1}: no time (${TIME_KEYS.join('/')})`);
      const fk = FLAG_KEYS.find((k) => o[k] !== undefined);
      push(parseTime(o[tk]), fk ? flagOf(o[fk]) : undefined, o.value);
    });
  } else {
    const sep = lines[0].includes(';') ? ';' : ',';
    const head = lines[0].split(sep).map((h) => h.trim());
    const hasHead = Number.isNaN(Date.parse(head[0].replace(' ', 'T'))) && !/^\d+$/.test(head[0]);
    const ti = hasHead
      ? Math.max(
          0,
          head.findIndex((h) => TIME_KEYS.includes(h)),
        )
      : 0;
    const fi = hasHead ? head.findIndex((h) => FLAG_KEYS.includes(h)) : 1;
    const vi = hasHead ? head.indexOf('value') : -1;
    for (const l of lines.slice(hasHead ? 1 : 0)) {
      const c = l.split(sep);
      push(parseTime(c[ti]), fi >= 0 && c[fi] !== undefined ? flagOf(c[fi].trim()) : undefined, vi >= 0 ? c[vi] : undefined);
    }
  }
  const order = out.tsMs.map((_, i) => i).sort((a, b) => out.tsMs[a] - out.tsMs[b]);
  return {
    tsMs: order.map((i) => out.tsMs[i]),
    flags: order.map((i) => out.flags[i]),
    values: order.map((i) => out.values[i]),
    eventsOnly: out.eventsOnly,
  };
}

/** Labelled windows from CSV (`start,end`), a JSON array of pairs, or NAB's combined_windows.json with `key`. */
export function parseWindows(text: string, key?: string): [number, number][] {
  const s = text.trim();
  let pairs: unknown[];
  if (s.startsWith('{') || s.startsWith('[')) {
    const j = JSON.parse(s) as unknown;
    if (Array.isArray(j)) pairs = j;
    else {
      const obj = j as Record<string, unknown>;
      const keys = Object.keys(obj);
      const k = key ?? (keys.length === 1 ? keys[0] : undefined);
      if (k === undefined) throw new Error(`labels hold ${keys.length} series: name one with --key`);
      if (!Array.isArray(obj[k])) throw new Error(`labels have no series '${k}'`);
      pairs = obj[k] as unknown[];
    }
  } else {
    pairs = s
      .split(/\r?\n/)
      .map((l) => l.split(/[;,]/).map((c) => c.trim()))
      .filter((c) => c.length >= 2 && !(c[0] === 'start' || c[0] === 'from'));
  }
  return pairs.map((p, i) => {
    if (!Array.isArray(p) || p.length < 2) throw new Error(`window ${i + 1}: not a [start, end] pair`);
    const w: [number, number] = [parseTime(p[0]), parseTime(p[1])];
    if (!(w[1] >= w[0])) throw new Error(`window ${i + 1}: end before start`);
    return w;
  });
}

export interface EvaluationReport {
  rows: number;
  windows: number;
  /** NAB scores of this one series (null when the record holds only alarm events: no rows to weigh). */
  nab: Record<NabProfileName, number> | null;
  pointwise: PointwiseResult | null;
  events: EventMetrics;
}

export function evaluateSeries(a: AlarmSeries, windows: [number, number][]): EvaluationReport {
  const events = eventMetrics(a.tsMs, a.flags, windows);
  if (a.eventsOnly) return { rows: a.tsMs.length, windows: windows.length, nab: null, pointwise: null, events };
  const rows = nabRows(a.tsMs, windows);
  const nab = {} as Record<NabProfileName, number>;
  for (const p of NAB_PROFILE_NAMES) nab[p] = nabNormalise([nabScoreFile(rows, a.flags, NAB_PROFILES[p])], NAB_PROFILES[p]);
  const pw = pointwise([confusion(windowLabels(a.tsMs, windows), a.flags)]);
  return { rows: a.tsMs.length, windows: windows.length, nab, pointwise: pw, events };
}

/** A timeline: windows as shaded bands, values as a line (when given), alarms as red ticks. */
export function timelineSvg(a: AlarmSeries, windows: [number, number][], title: string): string {
  const W = 900;
  const H = 260;
  const L = 50;
  const R = 10;
  const T = 30;
  const B = 40;
  const t0 = Math.min(a.tsMs[0] ?? 0, ...windows.map((w) => w[0]));
  const t1 = Math.max(a.tsMs[a.tsMs.length - 1] ?? 1, ...windows.map((w) => w[1]));
  const x = (t: number) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const vals = a.values.filter((v): v is number => v !== undefined);
  const lo = vals.length ? Math.min(...vals) : 0;
  const hi = vals.length ? Math.max(...vals) : 1;
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo || 1)) * (H - T - B);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...windows.map((w) => {
      const wx = Math.max(1, x(w[1]) - x(w[0])).toFixed(1);
      return `<rect x="${x(w[0]).toFixed(1)}" y="${T}" width="${wx}" height="${H - T - B}" fill="#ffd8a8"/>`;
    }),
  ];
  if (vals.length) {
    const pts = a.tsMs.map((t, i) => (a.values[i] === undefined ? '' : `${x(t).toFixed(1)},${y(a.values[i]!).toFixed(1)}`)).filter(Boolean);
    parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1" points="${pts.join(' ')}"/>`);
  }
  let prev = 0;
  a.tsMs.forEach((t, i) => {
    const xt = x(t).toFixed(1);
    if (a.flags[i] && !prev) parts.push(`<line x1="${xt}" x2="${xt}" y1="${T}" y2="${H - B}" stroke="#d62728" stroke-width="1.5"/>`);
    prev = a.flags[i];
  });
  parts.push(`<text x="${L}" y="${H - 15}" fill="#555">${esc(new Date(t0).toISOString().slice(0, 16))}</text>`);
  parts.push(`<text x="${W - R}" y="${H - 15}" fill="#555" text-anchor="end">${esc(new Date(t1).toISOString().slice(0, 16))}</text>`);
  const legend = `orange: labelled windows · red: alarms raised${vals.length ? ' · blue: value' : ''}`;
  parts.push(`<text x="${W / 2}" y="${H - 15}" fill="#555" text-anchor="middle">${legend}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
