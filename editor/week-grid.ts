/// <reference types="jquery" />
/**
 * A week grid (days × 24 h) of coloured spans: tariff periods, production shifts, planned stops.
 * The dialogs get the spans from the runtime's check endpoints and only draw them here.
 */
import { isRecord } from '../runtime/model/errors.js';

export interface GridSpan {
  /** local minutes [fromMin, toMin) of the day */
  fromMin: number;
  toMin: number;
  /** colour key (period or shift name) */
  key: string;
  /** drawn hatched over the row (planned stops) */
  hatched?: boolean;
}

export interface GridRow {
  label: string;
  spans: GridSpan[];
}

export interface LegendItem {
  key: string;
  label: string;
  hatched?: boolean;
  /** text only, no colour swatch (a summary) */
  plain?: boolean;
}

const PALETTE = ['#e6550d', '#3182bd', '#31a354', '#756bb1', '#fdae6b', '#9ecae1', '#a1d99b', '#bcbddc', '#e7ba52', '#ce6dbd'];
const HATCH = 'repeating-linear-gradient(45deg, rgba(60,60,60,0.75) 0 3px, rgba(255,255,255,0.35) 3px 6px)';

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** A colour per key, in the order given (the same key keeps its colour from one draw to the next). */
export function colours(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  keys.forEach((k, i) => (out[k] = PALETTE[i % PALETTE.length]));
  return out;
}

/** Draw `rows` into `container` (emptied first), with hour marks and a legend. */
export function weekGrid(container: JQuery, rows: GridRow[], colour: Record<string, string>, legend: LegendItem[]): void {
  container.empty().addClass('twinloop-week-grid');
  const labelW = 60;
  const $hours = $('<div/>', { style: `position:relative; height:14px; margin-left:${labelW}px; font-size:10px; opacity:0.7;` }).appendTo(
    container,
  );
  for (let h = 0; h <= 24; h += 3) {
    // the first and last marks stay inside the bar
    const shift = h === 0 ? '0' : h === 24 ? '-100%' : '-50%';
    $('<span/>', { style: `position:absolute; left:${(h / 24) * 100}%; transform:translateX(${shift});` })
      .text(String(h))
      .appendTo($hours);
  }
  for (const row of rows) {
    const $row = $('<div/>', {
      class: 'twinloop-week-row',
      style: 'display:flex; align-items:center; height:18px; margin:1px 0;',
    }).appendTo(container);
    $('<span/>', { style: `width:${labelW}px; flex:none; font-size:11px;` })
      .text(row.label)
      .appendTo($row);
    const $bar = $('<div/>', {
      style:
        'position:relative; flex:1; height:16px; background:var(--red-ui-secondary-background, #f3f3f3); border:1px solid var(--red-ui-secondary-border-color, #ddd);',
    }).appendTo($row);
    for (const s of row.spans) {
      const css = [
        'position:absolute',
        'top:0',
        'bottom:0',
        `left:${(s.fromMin / 1440) * 100}%`,
        `width:${((s.toMin - s.fromMin) / 1440) * 100}%`,
        `background:${s.hatched ? HATCH : (colour[s.key] ?? '#999')}`,
      ].join(';');
      $('<div/>', {
        class: s.hatched ? 'twinloop-week-stop' : 'twinloop-week-span',
        style: css,
        title: `${s.key} ${hhmm(s.fromMin)}–${hhmm(s.toMin)}`,
        'data-key': s.key,
      }).appendTo($bar);
    }
    for (let h = 6; h < 24; h += 6) {
      $('<div/>', {
        style: `position:absolute; top:0; bottom:0; left:${(h / 24) * 100}%; border-left:1px dotted rgba(0,0,0,0.25);`,
      }).appendTo($bar);
    }
  }
  const $legend = $('<div/>', { class: 'twinloop-week-legend', style: `margin:4px 0 0 ${labelW}px; font-size:11px;` }).appendTo(container);
  for (const item of legend) {
    const $item = $('<span/>', { style: 'display:inline-block; margin-right:12px;' }).appendTo($legend);
    if (!item.plain)
      $('<span/>', {
        style: `display:inline-block; width:10px; height:10px; margin-right:4px; vertical-align:middle; background:${item.hatched ? HATCH : (colour[item.key] ?? '#999')};`,
      }).appendTo($item);
    $('<span/>').text(item.label).appendTo($item);
  }
}

/**
 * Ask a check endpoint about the dialog's text a moment after the last keystroke; answers that
 * arrive after a newer request are dropped. Returns `schedule` (call on every edit).
 */
/** The `{ error }` a check endpoint refuses with, when the answer is one. */
function refusalText(answer: unknown): string | undefined {
  return isRecord(answer) && typeof answer.error === 'string' && answer.error !== '' ? answer.error : undefined;
}

export function liveCheck<T>(opts: {
  url: string;
  body: () => unknown;
  ok: (answer: T) => void;
  fail: (message: string) => void;
  delayMs?: number;
}): { schedule: () => void; now: () => void; stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  let stopped = false;
  const now = (): void => {
    if (stopped) return;
    const mine = ++seq;
    $.ajax({ url: opts.url, type: 'POST', contentType: 'application/json', data: JSON.stringify(opts.body()), dataType: 'json' })
      .done((answer: T) => !stopped && mine === seq && opts.ok(answer))
      .fail((xhr: JQuery.jqXHR) => !stopped && mine === seq && opts.fail(refusalText(xhr.responseJSON) || xhr.statusText));
  };
  return {
    now,
    schedule: () => {
      if (timer) clearTimeout(timer);
      if (!stopped) timer = setTimeout(now, opts.delayMs ?? 400);
    },
    /** The dialog closed: no more checks, and an answer still on its way is dropped (its editor is gone). */
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
