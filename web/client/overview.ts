/**
 * The live overview's browser script (bundled by tsup to dist/web/client/overview.js and inlined by
 * web/server/overview-html.ts under the page's nonce). Charts are inline SVG, each with role="img" and
 * an aria-label that says what is drawn and the latest values; the time charts share one time range
 * (data-x0/x1), a cursor with a value readout and a drag-zoom. The JSON it reads is web/server/overview-api.ts's.
 */
import { formatEur as eur } from '../../runtime/model/money.js';
import { $, el, hm, hms, input, pad2, svg, unit } from './dom.js';
import { setUpLogin } from './login.js';
import { readAnswer, type Answer } from './answer.js';
import { setUpAlarms } from './overview-alarms.js';
import type * as Api from './overview-types.js';

const ROOT = location.pathname.replace(/twinloop\/overview\/?$/, '');
const API = ROOT + 'twinloop/overview/api/';
// the editor's token (login.ts) or the approvals page's own in the session: one login serves all three
const OWN_KEY = 'twinloop-approvals-token';
const POLL_MS = 2000;
const DAY_MS = 86400000;
const W = 480,
  H = 170,
  WIDE_W = 960,
  WIDE_H = 220,
  PL = 46,
  PR = 8,
  PT = 8,
  PB = 20;

/** A series as the page keeps it: its buckets by start time, merged from every delta. */
interface Series {
  kind: Api.SeriesKind;
  asset: string;
  tag: string;
  unit?: string;
  bucketMs: number;
  pts: Record<number, Api.Bucket>;
}
interface AssetState {
  windows?: Api.MaintenanceWindow[];
  energy?: Api.EnergyCost[];
  demand?: Api.DemandStatus;
}
interface Range {
  x0: number;
  x1: number;
}
interface Scale extends Range {
  x: (t: number) => number;
  y: (v: number) => number;
  y0: number;
  y1: number;
  lo: number;
  hi: number;
  w: number;
  h: number;
}
interface Chart {
  g: SVGElement;
  sc: Scale;
  read(t: number): string;
  out: HTMLElement;
  cursor: SVGElement;
  sel: SVGElement;
}
type Dirty = Record<string, boolean>;

const S = {
  token: null as string | null,
  adminAuth: false,
  loginType: null as string | null,
  timer: null as ReturnType<typeof setInterval> | null,
  node: new URLSearchParams(location.search).get('node') || '',
  epoch: '',
  rev: 0,
  windowMs: 3600000,
  series: {} as Record<string, Series>,
  drift: [] as Api.DriftEvent[],
  assets: {} as Record<string, AssetState>,
  proposals: [] as Api.Proposal[],
  proposalsJson: '',
  nowMs: 0,
  zoom: null as Range | null,
  range: null as Range | null,
  rangeKey: '',
};
$('approvals-link').setAttribute('href', ROOT + 'twinloop/approvals');

function num(v: number | undefined, digits?: number): string {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  const a = Math.abs(v);
  const d = digits !== undefined ? digits : a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
  return v.toFixed(d).replace(/^-/, '−');
}
/** The plant's local time as the calendar gave it: "2026-12-05 06:00" from an ISO string with offset. */
function local(iso: string): string {
  return String(iso).slice(0, 16).replace('T', ' ');
}
function days(ms: number): string {
  return num(ms / DAY_MS, 1) + ' d';
}
function mins(ms: number): string {
  return Math.round(ms / 60000) + ' min';
}

// ---- login (as the approvals page: Node-RED's own /auth/token, the user's own permissions) ----
function call(path: string): Promise<Answer<Api.Data>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (S.token) headers.Authorization = 'Bearer ' + S.token;
  const abort = new AbortController();
  const timer = setTimeout(function () {
    abort.abort();
  }, 15000);
  return fetch(API + path, { headers: headers, cache: 'no-store', signal: abort.signal })
    .finally(function () {
      clearTimeout(timer);
    })
    .then(function (r) {
      return readAnswer<Api.Data>(r);
    });
}
const login = setUpLogin({ root: ROOT, ownKey: OWN_KEY, state: S, notice, stopPolling, enter });
const alarms = setUpAlarms({
  api: API,
  token: function () {
    return S.token;
  },
  refresh: function () {
    refresh();
  },
});
const showLogin = login.showLogin;
function enter(token: string | null): void {
  S.token = token;
  S.epoch = '';
  S.rev = 0;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = !S.adminAuth;
  startPolling();
}
function notice(text: string, abnormal: boolean): void {
  const n = $('notice');
  n.textContent = text;
  n.hidden = !text;
  n.className = 'banner' + (abnormal ? ' bad' : '');
}
$('pick').addEventListener('change', function () {
  S.node = input('pick').value;
  S.epoch = '';
  S.rev = 0;
  refresh();
});

// ---- polling: only what changed since the last answer ----------------------------------------
function startPolling(): void {
  stopPolling();
  refresh();
  S.timer = setInterval(function () {
    if (!document.hidden) refresh();
  }, POLL_MS);
}
function stopPolling(): void {
  if (S.timer) clearInterval(S.timer);
  S.timer = null;
}
let busy = false;
function refresh(): void {
  if (busy) return;
  busy = true;
  void call('data?node=' + encodeURIComponent(S.node) + '&epoch=' + encodeURIComponent(S.epoch) + '&since=' + S.rev)
    .then(function (r) {
      if (r.status === 401) {
        sessionStorage.removeItem(OWN_KEY);
        return showLogin(S.token ? 'Your session has ended. Log in again.' : '');
      }
      if (r.status === 403) {
        $('logout').hidden = false;
        return showLogin(r.error || 'No access to the overview.');
      }
      if (r.status !== 200 || !r.body) return notice('The overview API answered ' + r.status + '.', true);
      notice('', false);
      apply(r.body);
    })
    .catch(function () {
      notice('Lost contact with Node-RED. Retrying…', true);
    })
    .then(function () {
      busy = false;
    });
}

function apply(d: Api.Data): void {
  S.nowMs = d.nowMs;
  $('who').textContent = d.username ? 'logged in as ' + d.username : S.adminAuth ? '' : 'no login configured';
  renderPicker(d.nodes, d.node);
  const proposals = JSON.stringify(d.proposals || []);
  const proposalsChanged = proposals !== S.proposalsJson;
  S.proposalsJson = proposals;
  S.proposals = d.proposals || [];
  if (!d.node) {
    notice('No twin-overview node is deployed: wire one into a flow.', false);
    reset();
    render({});
    alarms.render(d, []);
    return;
  }
  if (d.full || d.epoch !== S.epoch) reset();
  S.node = d.node;
  S.epoch = d.epoch!;
  S.rev = d.rev!;
  S.windowMs = d.windowMs!;
  const dirty: Dirty = {};
  (d.series ?? []).forEach(function (s) {
    const cur =
      S.series[s.key] || (S.series[s.key] = { kind: s.kind, asset: s.asset, tag: s.tag, unit: s.unit, bucketMs: s.bucketMs, pts: {} });
    if (s.unit) cur.unit = s.unit;
    for (const ts in cur.pts) if (Number(ts) < s.fromTsMs) delete cur.pts[ts];
    s.points.forEach(function (p) {
      cur.pts[p.tsMs] = p;
    });
    dirty[s.asset] = true;
  });
  if (d.drift) {
    S.drift = d.drift;
    d.drift.forEach(function (e) {
      dirty[e.asset] = true;
    });
  }
  (d.assets ?? []).forEach(function (a) {
    const cur = S.assets[a.asset] || (S.assets[a.asset] = {});
    if (a.windows) cur.windows = a.windows;
    if (a.energy) cur.energy = a.energy;
    if (a.demand) cur.demand = a.demand;
    dirty[a.asset] = true;
  });
  // the highlighted window follows the proposal on the approvals page
  if (proposalsChanged) for (const asset in S.assets) dirty[asset] = true;
  render(dirty);
  alarms.render(d, S.drift);
}
function reset(): void {
  S.series = {};
  S.drift = [];
  S.assets = {};
  S.rev = 0;
  S.zoom = null;
  S.rangeKey = '';
  alarms.reset();
  $('trends').textContent = '';
  $('maint').textContent = '';
  $('energy').textContent = '';
}

function renderPicker(nodes: Api.Data['nodes'], current: string | null): void {
  const pick = $<HTMLSelectElement>('pick');
  $('pick-row').hidden = !nodes || nodes.length < 2;
  const want = (nodes || [])
    .map(function (n) {
      return n.id + '|' + n.name;
    })
    .join(',');
  if (pick.getAttribute('data-nodes') !== want) {
    pick.textContent = '';
    (nodes || []).forEach(function (n) {
      pick.appendChild(el('option', { value: n.id, text: n.name }));
    });
    pick.setAttribute('data-nodes', want);
  }
  if (current) pick.value = current;
}

// ---- rendering ------------------------------------------------------------------------------
const ALL: Dirty = {};
function points(s: Series): Api.Bucket[] {
  return Object.keys(s.pts)
    .map(Number)
    .sort(function (a, b) {
      return a - b;
    })
    .map(function (k) {
      return s.pts[k];
    });
}
function render(dirty: Dirty): void {
  renderProposals();
  // while a zoom is being dragged the charts stay as they are: the mouse-up draws everything
  if (drag) return;
  const range = timeRange(),
    rangeKey = range ? range.x0 + '-' + range.x1 : '';
  const all = dirty === ALL || rangeKey !== S.rangeKey;
  S.range = range;
  S.rangeKey = rangeKey;
  $('zoombar').hidden = !range;
  if (range)
    $('range').textContent = 'Time axis of every chart: ' + hms(range.x0) + ' – ' + hms(range.x1) + (S.zoom ? ' (zoomed)' : ' (live)');
  $<HTMLButtonElement>('unzoom').disabled = !S.zoom;
  const byAsset: Record<string, Series[]> = {};
  for (const key in S.series) {
    const s = S.series[key];
    (byAsset[s.asset] = byAsset[s.asset] || []).push(s);
  }
  const assets = Object.keys(byAsset)
    .concat(Object.keys(S.assets))
    .filter(function (a, i, list) {
      return list.indexOf(a) === i;
    })
    .sort();
  assets.forEach(function (asset) {
    if (all || dirty[asset]) renderAsset(asset, byAsset[asset] || []);
  });
  $('no-trends').hidden = $('trends').childElementCount > 0;
  $('no-maint').hidden = $('maint').childElementCount > 0;
  $('no-energy').hidden = $('energy').childElementCount > 0;
  showCursor();
}

/**
 * The one time range of every time chart: the zoom, else the newest record back one window, or back to the
 * oldest reading, estimate, RUL or energy interval kept, so the last closed interval is on the axis
 * even when it ended before the readings kept began (an interval older than the window is cut).
 */
function timeRange(): Range | null {
  if (S.zoom) return S.zoom;
  let x0 = Infinity,
    x1 = -Infinity;
  for (const k in S.series) {
    const p = points(S.series[k]);
    if (p.length) {
      x0 = Math.min(x0, p[0].tsMs);
      x1 = Math.max(x1, p[p.length - 1].lastTsMs);
    }
  }
  for (const a in S.assets) {
    (S.assets[a].energy || []).forEach(function (c) {
      if (c.scope === 'interval') {
        x0 = Math.min(x0, c.startMs);
        x1 = Math.max(x1, c.endMs);
      }
    });
  }
  if (x0 === Infinity) x0 = x1 - S.windowMs;
  if (x1 === -Infinity) return null;
  return { x0: Math.min(x1 - 60000, Math.max(x0, x1 - S.windowMs)), x1: x1 };
}

function slot(parent: Element, id: string, make: () => HTMLElement): HTMLElement {
  let e = document.getElementById(id);
  if (!e) {
    e = make();
    e.id = id;
    parent.appendChild(e);
  }
  return e;
}
function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

function renderAsset(asset: string, list: Series[]): void {
  const tags: Record<string, Partial<Record<Api.SeriesKind, Series>>> = {};
  let rul: Series | null = null;
  list.forEach(function (s) {
    if (s.kind === 'rul') rul = s;
    else (tags[s.tag] = tags[s.tag] || {})[s.kind] = s;
  });
  const names = Object.keys(tags).sort(function (a, b) {
    return (tags[b].estimate ? 1 : 0) - (tags[a].estimate ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0);
  });
  if (names.length) {
    const box = slot($('trends'), 'trends-' + safeId(asset), function () {
      return el('div', {}, [el('h3', { text: asset }), el('div', { className: 'grid' })]);
    });
    const grid = box.querySelector('.grid')!;
    names.forEach(function (tag) {
      const fig = slot(grid, 'trend-' + safeId(asset + '/' + tag), function () {
        return el('figure', { 'data-tag': tag });
      });
      trendChart(fig, asset, tag, tags[tag].reading, tags[tag].estimate);
    });
  }
  const a: AssetState = S.assets[asset] || {};
  if (rul)
    rulChart(
      slot($('maint'), 'rul-' + safeId(asset), function () {
        return el('figure');
      }),
      asset,
      rul,
    );
  if (a.windows && a.windows.length)
    windowChart(
      slot($('maint'), 'windows-' + safeId(asset), function () {
        return el('figure');
      }),
      asset,
      a.windows,
    );
  const intervals = (a.energy || []).filter(function (c) {
    return c.scope === 'interval';
  });
  if (intervals.length)
    energyChart(
      slot($('energy'), 'cost-' + safeId(asset), function () {
        return el('figure');
      }),
      asset,
      intervals,
      a.energy!,
    );
  if (a.demand)
    demandChart(
      slot($('energy'), 'demand-' + safeId(asset), function () {
        return el('figure');
      }),
      asset,
      a.demand,
    );
}

/** x/y scales of a chart area. */
function scales(x0: number, x1: number, y0: number, y1: number, w?: number, h?: number): Scale {
  w = w || W;
  h = h || H;
  if (!isFinite(y0) || !isFinite(y1)) {
    y0 = 0;
    y1 = 1;
  }
  if (!(y1 > y0)) {
    const m = Math.abs(y0) * 0.01 || 1;
    y0 -= m;
    y1 += m;
  }
  const lo = y0,
    hi = y1,
    pad = (y1 - y0) * 0.08;
  y0 -= pad;
  y1 += pad;
  if (!(x1 > x0)) x1 = x0 + 1;
  return {
    x: function (t) {
      return PL + ((t - x0) / (x1 - x0)) * (w - PL - PR);
    },
    y: function (v) {
      return PT + ((y1 - v) / (y1 - y0)) * (h - PT - PB);
    },
    x0: x0,
    x1: x1,
    y0: y0,
    y1: y1,
    lo: lo,
    hi: hi,
    w: w,
    h: h,
  };
}
function f1(v: number): number {
  return Math.round(v * 10) / 10;
}
function line(pts: Api.Bucket[], sx: (b: Api.Bucket) => number, sy: (b: Api.Bucket) => number): string {
  return pts
    .map(function (p, i) {
      return (i ? 'L' : 'M') + f1(sx(p)) + ' ' + f1(sy(p));
    })
    .join('');
}
/** A value holds until the next one: horizontal runs and vertical jumps, never a slope between two samples. */
function steps(pts: Api.Bucket[], x: (t: number) => number, y: (v: number) => number): string {
  const d = pts
    .map(function (p, i) {
      return (i ? 'L' + f1(x(p.tsMs)) + ' ' + f1(y(pts[i - 1].last)) + 'L' : 'M') + f1(x(p.tsMs)) + ' ' + f1(y(p.last));
    })
    .join('');
  const end = pts[pts.length - 1];
  return d + 'L' + f1(x(end.lastTsMs)) + ' ' + f1(y(end.last));
}
function band(pts: Api.Bucket[], sx: (b: Api.Bucket) => number, lo: (b: Api.Bucket) => number, hi: (b: Api.Bucket) => number): string {
  if (!pts.length) return '';
  const up = pts
    .map(function (p, i) {
      return (i ? 'L' : 'M') + f1(sx(p)) + ' ' + f1(hi(p));
    })
    .join('');
  const down = pts
    .slice()
    .reverse()
    .map(function (p) {
      return 'L' + f1(sx(p)) + ' ' + f1(lo(p));
    })
    .join('');
  return up + down + 'Z';
}
/** The bucket in force at t: the newest that began at or before it (a value holds until the next). */
function at(pts: Api.Bucket[], t: number): Api.Bucket | null {
  let hit: Api.Bucket | null = null;
  for (let i = 0; i < pts.length && pts[i].tsMs <= t; i++) hit = pts[i];
  return hit;
}
/** Buckets that reach into the shown range, and the one whose value holds into it from before. */
function shown(pts: Api.Bucket[], sc: Range): Api.Bucket[] {
  const held = at(pts, sc.x0);
  return pts.filter(function (p) {
    return p === held || (p.lastTsMs >= sc.x0 && p.tsMs <= sc.x1);
  });
}
function extent(pts: Api.Bucket[], lo: (b: Api.Bucket) => number, hi: (b: Api.Bucket) => number): [number, number] {
  const r: [number, number] = [Infinity, -Infinity];
  pts.forEach(function (p) {
    r[0] = Math.min(r[0], lo(p));
    r[1] = Math.max(r[1], hi(p));
  });
  return r;
}
function frame(g: SVGElement, sc: Scale, yfmt: (v: number) => string): void {
  g.appendChild(svg('line', { x1: PL, x2: sc.w - PR, y1: sc.h - PB, y2: sc.h - PB, stroke: '#999' }));
  g.appendChild(svg('line', { x1: PL, x2: PL, y1: PT, y2: sc.h - PB, stroke: '#999' }));
  // the data's own bounds and their middle (the padding around them is no value to read off)
  [sc.lo, (sc.lo + sc.hi) / 2, sc.hi].forEach(function (v) {
    g.appendChild(svg('line', { x1: PL, x2: sc.w - PR, y1: f1(sc.y(v)), y2: f1(sc.y(v)), stroke: '#eee' }));
    g.appendChild(svg('text', { x: PL - 4, y: f1(sc.y(v)) + 4, 'text-anchor': 'end' }, yfmt(v)));
  });
  // both ends and the middle, to the second when the range is short
  const tf = sc.x1 - sc.x0 < 15 * 60000 ? hms : hm;
  (
    [
      [sc.x0, 'start'],
      [(sc.x0 + sc.x1) / 2, 'middle'],
      [sc.x1, 'end'],
    ] as Array<[number, string]>
  ).forEach(function (t) {
    g.appendChild(svg('text', { x: f1(sc.x(t[0])), y: sc.h - 5, 'text-anchor': t[1] }, tf(t[0])));
  });
}
function caption(fig: HTMLElement, title: string, now: string): void {
  fig.textContent = '';
  fig.appendChild(el('figcaption', {}, [el('span', { text: title }), el('span', { className: 'now', text: now })]));
}
function legend(fig: HTMLElement, items: Array<[string, string]>): void {
  fig.appendChild(
    el(
      'div',
      { className: 'legend' },
      items.map(function (it) {
        return el('span', {}, [el('span', { className: 'sw ' + it[1] }), it[0]]);
      }),
    ),
  );
}

// ---- time charts: the shared range, a synced cursor with a readout, drag to zoom all --------
const CHARTS: Record<string, Chart> = {}; // figure id → { g, sc, read(t), out, cursor, sel }
let cursorT: number | null = null,
  drag: { c: Chart; t0: number; px: number } | null = null;

/** An SVG chart on the shared time range (data-x0/x1, epoch ms); its plot group clips what lies outside it. */
function timeSvg(fig: HTMLElement, sc: Scale, label: string, yfmt: (v: number) => string): { g: SVGElement; plot: SVGElement } {
  const g = svg('svg', {
    viewBox: '0 0 ' + sc.w + ' ' + sc.h,
    class: 'chart' + (sc.w === WIDE_W ? ' wide' : ''),
    role: 'img',
    'aria-label': label,
    'data-x0': Math.round(sc.x0),
    'data-x1': Math.round(sc.x1),
  });
  frame(g, sc, yfmt);
  const clip = svg('clipPath', { id: 'clip-' + fig.id });
  clip.appendChild(svg('rect', { x: PL, y: 0, width: sc.w - PL - PR, height: sc.h - PB }));
  g.appendChild(clip);
  const plot = svg('g', { 'clip-path': 'url(#clip-' + fig.id + ')' });
  g.appendChild(plot);
  return { g: g, plot: plot };
}
/** After the figure's svg: the hover readout (read(t) says the values at t) and the zoom handles. */
function bind(fig: HTMLElement, g: SVGElement, sc: Scale, read: (t: number) => string): void {
  const c: Chart = {
    g: g,
    sc: sc,
    read: read,
    out: el('div', { className: 'readout' }),
    cursor: svg('line', { y1: PT, y2: sc.h - PB, stroke: '#000', visibility: 'hidden', 'data-series': 'cursor' }),
    sel: svg('rect', { y: PT, height: sc.h - PT - PB, width: 0, fill: '#2a5db0', 'fill-opacity': 0.2, 'data-series': 'zoom-selection' }),
  };
  g.appendChild(c.sel);
  g.appendChild(c.cursor);
  fig.appendChild(c.out);
  CHARTS[fig.id] = c;
  g.addEventListener('mousemove', function (ev) {
    cursorT = tAt(c, ev);
    showCursor();
  });
  g.addEventListener('mouseleave', function () {
    cursorT = null;
    showCursor();
  });
  g.addEventListener('mousedown', function (ev) {
    if (ev.button !== 0) return;
    ev.preventDefault();
    drag = { c: c, t0: tAt(c, ev), px: ev.clientX };
  });
  g.addEventListener('dblclick', unzoom);
}
/** The time under the mouse, within the chart's range. */
function tAt(c: Chart, ev: MouseEvent): number {
  const r = c.g.getBoundingClientRect(),
    sc = c.sc;
  const t = sc.x0 + ((((ev.clientX - r.left) / r.width) * sc.w - PL) / (sc.w - PL - PR)) * (sc.x1 - sc.x0);
  return Math.min(sc.x1, Math.max(sc.x0, t));
}
/** The cursor at the same time on every chart, each saying its values there. */
function showCursor(): void {
  for (const id in CHARTS) {
    const c = CHARTS[id];
    if (!c.g.isConnected) {
      delete CHARTS[id];
      continue;
    }
    const t = cursorT,
      on = t !== null && t >= c.sc.x0 && t <= c.sc.x1,
      x = String(t !== null && on ? f1(c.sc.x(t)) : 0);
    c.cursor.setAttribute('x1', x);
    c.cursor.setAttribute('x2', x);
    c.cursor.setAttribute('visibility', on ? 'visible' : 'hidden');
    c.out.textContent = t !== null && on ? hms(t) + ' · ' + c.read(t) : '';
    if (t !== null && on) c.out.setAttribute('data-t', String(Math.round(t)));
    else c.out.removeAttribute('data-t');
  }
}
document.addEventListener('mousemove', function (ev) {
  if (!drag) return;
  const c = drag.c,
    a = c.sc.x(drag.t0),
    b = c.sc.x(tAt(c, ev));
  c.sel.setAttribute('x', String(f1(Math.min(a, b))));
  c.sel.setAttribute('width', String(f1(Math.abs(b - a))));
});
document.addEventListener('mouseup', function (ev) {
  if (!drag) return;
  const d = drag,
    t1 = tAt(d.c, ev);
  drag = null;
  // a click, or a sliver of under a second, is not a zoom
  if (Math.abs(ev.clientX - d.px) >= 5 && Math.abs(t1 - d.t0) >= 1000) S.zoom = { x0: Math.min(d.t0, t1), x1: Math.max(d.t0, t1) };
  render(ALL);
});
function unzoom(): void {
  S.zoom = null;
  render(ALL);
}
$('unzoom').addEventListener('click', unzoom);

function trendChart(fig: HTMLElement, asset: string, tag: string, rs: Series | undefined, es: Series | undefined): void {
  const rp = rs ? points(rs) : [],
    ep = es ? points(es) : [];
  const u = (rs && rs.unit) || (es && es.unit) || '';
  const R = S.range!,
    rv = shown(rp, R),
    ev = shown(ep, R);
  const yr = extent(
    rv,
    function (p) {
      return p.min;
    },
    function (p) {
      return p.max;
    },
  );
  const ye = extent(
    ev,
    function (p) {
      return Math.min(p.lo!, p.min);
    },
    function (p) {
      return Math.max(p.hi!, p.max);
    },
  );
  const sc = scales(R.x0, R.x1, Math.min(yr[0], ye[0]), Math.max(yr[1], ye[1]));
  const events = S.drift.filter(function (e) {
    return e.asset === asset && e.tag === tag && e.tsMs >= R.x0 && e.tsMs <= R.x1;
  });
  const lastR = rp[rp.length - 1],
    lastE = ep[ep.length - 1];
  const parts = [];
  if (lastR) parts.push('reading ' + num(lastR.last) + unit(u) + (lastR.quality !== 'good' ? ' (' + lastR.quality + ')' : ''));
  if (lastE) parts.push('estimate ' + num(lastE.last) + unit(u) + ' ± ' + num((lastE.hi! - lastE.lo!) / 2) + ' (2σ)');
  parts.push(events.length + ' drift event' + (events.length === 1 ? '' : 's'));
  caption(fig, tag, (lastR ? num(lastR.last) : lastE ? num(lastE.last) : '–') + unit(u));
  const c = timeSvg(fig, sc, tag + ', ' + hm(R.x0) + '–' + hm(R.x1) + ': ' + parts.join(', '), num),
    p = c.plot;
  const mid = function (s: Series) {
    return function (b: Api.Bucket) {
      return sc.x(b.tsMs + s.bucketMs / 2);
    };
  };
  const yv = function (v: number) {
    return sc.y(v);
  };
  if (ev.length)
    p.appendChild(
      svg('path', {
        d: band(
          ev,
          mid(es!),
          function (b) {
            return sc.y(b.lo!);
          },
          function (b) {
            return sc.y(b.hi!);
          },
        ),
        fill: '#c9d6ea',
        stroke: 'none',
        'data-series': 'estimate-band',
      }),
    );
  if (rv.length)
    p.appendChild(
      svg('path', {
        d: band(
          rv,
          mid(rs!),
          function (b) {
            return sc.y(b.min);
          },
          function (b) {
            return sc.y(b.max);
          },
        ),
        fill: '#d6d6d6',
        stroke: 'none',
        'data-series': 'reading-range',
      }),
    );
  if (rv.length)
    p.appendChild(svg('path', { d: steps(rv, sc.x, yv), fill: 'none', stroke: '#333', 'stroke-width': 1.5, 'data-series': 'reading' }));
  // a series of one bucket so far (a setpoint that has not moved): a dot, not an invisible line
  if (rv.length === 1) p.appendChild(svg('circle', { cx: f1(sc.x(rv[0].lastTsMs)), cy: f1(sc.y(rv[0].last)), r: 3, fill: '#333' }));
  // no record since: the last value held to the end of the range, dashed (a setpoint sent only on change)
  if (rs && lastR && R.x1 - lastR.lastTsMs > rs.bucketMs) {
    const heldY = f1(sc.y(lastR.last));
    const held = svg('path', {
      d: 'M' + f1(sc.x(lastR.lastTsMs)) + ' ' + heldY + 'L' + f1(sc.x(R.x1)) + ' ' + heldY,
      fill: 'none',
      stroke: '#333',
      'stroke-dasharray': '2 3',
      'data-series': 'reading-held',
    });
    held.appendChild(svg('title', {}, 'no record since ' + hms(lastR.lastTsMs) + ': last value held'));
    p.appendChild(held);
  }
  if (ev.length)
    p.appendChild(
      svg('path', {
        d: line(ev, mid(es!), function (b) {
          return sc.y(b.last);
        }),
        fill: 'none',
        stroke: '#2a5db0',
        'stroke-width': 1.5,
        'stroke-dasharray': '5 3',
        'data-series': 'estimate',
      }),
    );
  // readings of lower quality: a mark under the bucket
  rv.forEach(function (b) {
    if (b.quality === 'good') return;
    p.appendChild(
      svg('rect', {
        x: f1(mid(rs!)(b) - 2),
        y: H - PB - 5,
        width: 4,
        height: 5,
        fill: b.quality === 'bad' ? '#a4001d' : '#c58a00',
        'data-series': 'quality',
      }),
    );
  });
  events.forEach(function (e) {
    const x = f1(sc.x(e.tsMs));
    const m = svg('g', { 'data-series': 'drift' });
    m.appendChild(svg('line', { x1: x, x2: x, y1: PT, y2: H - PB, stroke: '#a4001d', 'stroke-width': 1.5 }));
    m.appendChild(svg('path', { d: 'M' + x + ' ' + PT + 'l-5 -0 l5 8 l5 -8z', fill: '#a4001d' }));
    m.appendChild(
      svg(
        'title',
        {},
        'drift ' +
          hms(e.tsMs) +
          ': ' +
          e.kind +
          (e.faultType ? ' (' + e.faultType + ')' : '') +
          ', ' +
          e.method +
          ', ' +
          e.direction +
          ' ' +
          num(e.magnitude) +
          unit(u),
      ),
    );
    p.appendChild(m);
  });
  fig.appendChild(c.g);
  bind(fig, c.g, sc, function (t) {
    const r = at(rp, t),
      e = at(ep, t),
      out = [];
    if (r) out.push('reading ' + num(r.last) + unit(u) + (r.quality !== 'good' ? ' (' + r.quality + ')' : ''));
    if (e) out.push('estimate ' + num(e.last) + unit(u) + ' ± ' + num((e.hi! - e.lo!) / 2));
    return out.join(' · ') || 'no data yet';
  });
  const items: Array<[string, string]> = [];
  if (rp.length) items.push(['reading, range per ' + Math.round(rs!.bucketMs / 1000) + ' s', 'sw-reading']);
  if (ep.length) items.push(['estimate ±2σ', 'sw-estimate']);
  if (events.length) items.push(['drift', 'sw-drift']);
  legend(fig, items);
}

function rulChart(fig: HTMLElement, asset: string, s: Series): void {
  const all = points(s),
    last = all[all.length - 1],
    R = S.range!,
    pv = shown(all, R);
  const y = extent(
    pv,
    function (b) {
      return b.lo! / DAY_MS;
    },
    function (b) {
      return b.hi! / DAY_MS;
    },
  );
  const sc = scales(R.x0, R.x1, y[0], y[1], WIDE_W, WIDE_H);
  const rulText = function (b: Api.Bucket) {
    return days(b.last) + ' (P10 ' + days(b.lo!) + ' – P90 ' + days(b.hi!) + ')';
  };
  caption(
    fig,
    'Remaining useful life',
    days(last.last) + ' (P10–P90 ' + num(last.lo! / DAY_MS, 1) + '–' + num(last.hi! / DAY_MS, 1) + ' d)',
  );
  const label = 'Remaining useful life of ' + asset + ': ' + rulText(last) + (last.quality !== 'good' ? ', ' + last.quality : '');
  const c = timeSvg(fig, sc, label, function (v) {
    return num(v, 1) + ' d';
  });
  const sx = function (b: Api.Bucket) {
    return sc.x(b.tsMs + s.bucketMs / 2);
  };
  c.plot.appendChild(
    svg('path', {
      d: band(
        pv,
        sx,
        function (b) {
          return sc.y(b.lo! / DAY_MS);
        },
        function (b) {
          return sc.y(b.hi! / DAY_MS);
        },
      ),
      fill: '#d6d6d6',
      stroke: 'none',
      'data-series': 'rul-interval',
    }),
  );
  c.plot.appendChild(
    svg('path', {
      d: line(pv, sx, function (b) {
        return sc.y(b.last / DAY_MS);
      }),
      fill: 'none',
      stroke: '#333',
      'stroke-width': 1.5,
      'data-series': 'rul',
    }),
  );
  if (pv.length === 1) c.plot.appendChild(svg('circle', { cx: f1(sx(pv[0])), cy: f1(sc.y(pv[0].last / DAY_MS)), r: 3, fill: '#333' }));
  fig.appendChild(c.g);
  bind(fig, c.g, sc, function (t) {
    const b = at(all, t);
    return b ? 'RUL ' + rulText(b) : 'no estimate yet';
  });
  legend(fig, [
    ['RUL (P50)', 'sw-reading'],
    ['P10–P90', 'sw-range'],
  ]);
}

function chosenWindow(asset: string, windows: Api.MaintenanceWindow[]): { w: Api.MaintenanceWindow; why: string; costThenEur?: number } {
  const proposed = S.proposals.filter(function (q): q is Api.MaintenanceProposal {
    return q.kind === 'maintenance' && q.asset === asset;
  })[0];
  if (proposed) {
    const same = windows.filter(function (w) {
      return w.startMs === proposed.window.startMs;
    })[0];
    // the approvals page shows the cost at proposal time; the ranking re-costs its windows as the RUL moves
    if (same) return { w: same, why: 'proposed', costThenEur: proposed.window.expectedCostEur };
  }
  return { w: windows[0], why: 'recommended' };
}

function windowChart(fig: HTMLElement, asset: string, windows: Api.MaintenanceWindow[]): void {
  const chosen = chosenWindow(asset, windows);
  let x0 = Math.min.apply(
    null,
    windows
      .map(function (w) {
        return w.startMs;
      })
      .concat([windows[0].tsMs]),
  );
  let x1 = Math.max.apply(
    null,
    windows.map(function (w) {
      return w.endMs;
    }),
  );
  x0 = Math.floor(x0 / 3600000) * 3600000;
  x1 = Math.ceil(x1 / 3600000) * 3600000;
  const rowH = 24,
    top = 20,
    h = top + windows.length * rowH + 22,
    w = 960,
    left = 10,
    right = 10;
  const x = function (t: number) {
    return left + ((t - x0) / (x1 - x0 || 1)) * (w - left - right);
  };
  const cw = chosen.w;
  const revised = chosen.costThenEur !== undefined && Math.abs(chosen.costThenEur - cw.expectedCostEur) >= 0.005;
  const then = revised ? eur(chosen.costThenEur!) + ' when proposed' : '';
  const label =
    'Maintenance windows for ' +
    asset +
    ': ' +
    windows.length +
    ' ranked; ' +
    chosen.why +
    ': #' +
    cw.rank +
    ' ' +
    local(cw.startLocal) +
    ' to ' +
    local(cw.endLocal).slice(11) +
    ' ' +
    cw.timeZone +
    ', expected ' +
    eur(cw.expectedCostEur) +
    (then ? ' now, ' + then : '');
  const g = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, class: 'chart wide', role: 'img', 'aria-label': label });
  // a tick at every local midnight of the browser (the control room's clock)
  const d = new Date(x0);
  d.setHours(24, 0, 0, 0);
  for (let t = d.getTime(); t < x1; t += DAY_MS) {
    g.appendChild(svg('line', { x1: f1(x(t)), x2: f1(x(t)), y1: top - 4, y2: h - 18, stroke: '#ddd' }));
    const day = new Date(t);
    g.appendChild(
      svg(
        'text',
        { x: f1(x(t)) + 3, y: h - 6 },
        ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day.getDay()] + ' ' + pad2(day.getDate()) + '.' + pad2(day.getMonth() + 1) + '.',
      ),
    );
  }
  if (windows[0].tsMs >= x0) g.appendChild(svg('text', { x: f1(x(windows[0].tsMs)), y: 11 }, 'ranked at ' + hm(windows[0].tsMs)));
  windows.forEach(function (win, i) {
    const y = top + i * rowH,
      isChosen = win === cw;
    const r = svg('rect', {
      x: f1(x(win.startMs)),
      y: y + 2,
      width: Math.max(3, f1(x(win.endMs) - x(win.startMs))),
      height: rowH - 6,
      fill: isChosen ? '#2a5db0' : '#b5b5b5',
      stroke: isChosen ? '#0f2f66' : '#888',
      'stroke-width': isChosen ? 2 : 1,
      'data-rank': win.rank,
      'data-chosen': isChosen ? 'true' : 'false',
    });
    r.appendChild(svg('title', {}, win.why));
    g.appendChild(r);
    const text =
      '#' +
      win.rank +
      ' ' +
      local(win.startLocal) +
      '–' +
      local(win.endLocal).slice(11) +
      ' · ' +
      eur(win.expectedCostEur) +
      (isChosen ? (then ? ' now, ' + then : ' · ' + chosen.why) : '');
    let tx = x(win.endMs) + 6,
      anchor = 'start';
    if (tx > w - 400) {
      tx = x(win.startMs) - 6;
      anchor = 'end';
    }
    g.appendChild(
      svg('text', { x: f1(tx), y: y + rowH - 8, 'text-anchor': anchor, class: 'win', 'font-weight': isChosen ? 700 : 400 }, text),
    );
  });
  caption(fig, 'Maintenance windows', '#' + cw.rank + ' ' + local(cw.startLocal) + ' ' + cw.timeZone);
  fig.appendChild(g);
  fig.appendChild(
    el('div', {
      className: 'legend',
      text:
        chosen.why === 'proposed'
          ? 'Highlighted: the window proposed on the approvals page.'
          : 'Highlighted: rank 1, the least expected cost.',
    }),
  );
}

function energyChart(fig: HTMLElement, asset: string, intervals: Api.EnergyCost[], all: Api.EnergyCost[]): void {
  const R = S.range!,
    last = intervals[intervals.length - 1];
  const list = intervals.filter(function (c) {
    return c.endMs > R.x0 && c.startMs < R.x1;
  });
  const sc = scales(
    R.x0,
    R.x1,
    0,
    Math.max.apply(
      null,
      list
        .map(function (c) {
          return c.costEur;
        })
        .concat([0]),
    ),
    WIDE_W,
    WIDE_H,
  );
  const per = last.costEurPerUnit !== undefined ? ', ' + eur(last.costEurPerUnit) + ' per ' + (last.unitName || 'unit') : '';
  caption(fig, 'Energy cost per interval, EUR', eur(last.costEur) + per);
  const label =
    'Energy cost per interval for ' +
    asset +
    ': last ' +
    mins(last.endMs - last.startMs) +
    ' interval to ' +
    hm(last.endMs) +
    ' ' +
    eur(last.costEur) +
    ' (' +
    num(last.energyKwh) +
    ' kWh' +
    per +
    '), ' +
    list.length +
    ' interval' +
    (list.length === 1 ? '' : 's') +
    ' shown';
  const c = timeSvg(fig, sc, label, function (v) {
    return num(v, 2);
  });
  const text = function (k: Api.EnergyCost) {
    return (
      hm(k.startMs) +
      '–' +
      hm(k.endMs) +
      ' ' +
      eur(k.costEur) +
      ', ' +
      num(k.energyKwh) +
      ' kWh' +
      (k.quality !== 'good' ? ' (' + k.quality + ')' : '')
    );
  };
  list.forEach(function (k) {
    const x0 = sc.x(k.startMs),
      x1 = sc.x(k.endMs);
    const r = svg('rect', {
      x: f1(x0 + 1),
      y: f1(sc.y(k.costEur)),
      width: Math.max(1, f1(x1 - x0 - 2)),
      height: Math.max(0, f1(sc.y(0) - sc.y(k.costEur))),
      fill: k.quality === 'good' ? '#7a7a7a' : '#c58a00',
      'data-series': 'energy-cost',
    });
    r.appendChild(svg('title', {}, text(k)));
    c.plot.appendChild(r);
  });
  fig.appendChild(c.g);
  bind(fig, c.g, sc, function (t) {
    const k = intervals.filter(function (i) {
      return i.startMs <= t && t < i.endMs;
    })[0];
    return k ? 'interval ' + text(k) : 'no interval costed';
  });
  const shift = all
    .filter(function (k) {
      return k.scope === 'shift';
    })
    .pop();
  fig.appendChild(
    el('div', {
      className: 'legend',
      text: shift
        ? 'Last shift ' + (shift.label || '') + ': ' + eur(shift.costEur) + ', ' + num(shift.energyKwh) + ' kWh'
        : 'Grey: good data; amber: gaps or uncertain readings.',
    }),
  );
}

function demandChart(fig: HTMLElement, asset: string, d: Api.DemandStatus): void {
  const max = Math.max(d.averageKwSoFar, d.forecastKw, d.billingPeakKw, d.thresholdKw || 0) * 1.1 || 1;
  const w = WIDE_W,
    h = 110,
    left = 130,
    right = 90;
  const x = function (v: number) {
    return left + (v / max) * (w - left - right);
  };
  const label =
    'Demand block ' +
    hm(d.blockStartMs) +
    '–' +
    hm(d.blockEndMs) +
    ' for ' +
    asset +
    ': average so far ' +
    num(d.averageKwSoFar) +
    ' kW, forecast ' +
    num(d.forecastKw) +
    ' kW, billing peak ' +
    num(d.billingPeakKw) +
    ' kW; ' +
    (d.alert ? 'ALERT: shed ' + num(d.shedKw) + ' kW' : 'no alert');
  const g = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, class: 'chart wide', role: 'img', 'aria-label': label });
  (
    [
      ['average so far', d.averageKwSoFar, '#7a7a7a'],
      ['forecast', d.forecastKw, d.alert ? '#a4001d' : '#333'],
    ] as Array<[string, number, string]>
  ).forEach(function (row, i) {
    const y = 14 + i * 34;
    g.appendChild(svg('text', { x: left - 6, y: y + 15, 'text-anchor': 'end' }, row[0]));
    g.appendChild(
      svg('rect', { x: left, y: y, width: Math.max(1, f1(x(row[1]) - left)), height: 22, fill: row[2], 'data-series': 'demand' }),
    );
    g.appendChild(svg('text', { x: f1(x(row[1])) + 4, y: y + 15 }, num(row[1]) + ' kW'));
  });
  const px = f1(x(d.billingPeakKw));
  g.appendChild(
    svg('line', {
      x1: px,
      x2: px,
      y1: 6,
      y2: 84,
      stroke: '#000',
      'stroke-width': 2,
      'stroke-dasharray': '4 2',
      'data-series': 'billing-peak',
    }),
  );
  g.appendChild(svg('text', { x: px, y: 100, 'text-anchor': 'middle' }, 'billing peak ' + num(d.billingPeakKw) + ' kW'));
  caption(fig, 'Demand block ' + hm(d.blockStartMs) + '–' + hm(d.blockEndMs), '');
  const now = fig.querySelector('.now')!;
  if (d.alert) now.appendChild(el('span', { className: 'alert', text: 'ALERT: shed ' + num(d.shedKw) + ' kW' }));
  else now.textContent = 'no alert';
  fig.appendChild(g);
  if (d.demandChargeEur !== undefined)
    fig.appendChild(el('div', { className: 'legend', text: 'Demand charge of the billing period so far: ' + eur(d.demandChargeEur) }));
}

function renderProposals(): void {
  const ul = $('proposals');
  ul.textContent = '';
  S.proposals.forEach(function (q) {
    const left = q.expiresTsMs - S.nowMs;
    const expiry = left > 0 ? 'expires in ' + Math.ceil(left / 60000) + ' min' : 'expired';
    const what =
      q.kind === 'setpoint'
        ? [
            el('b', { text: q.tag }),
            ' ' + num(q.currentValue) + ' → ' + num(q.proposedValue) + unit(q.unit) + ' on ' + q.asset + ' · ',
            q.envelopeOk ? 'within the envelope' : el('span', { className: 'alert', text: 'outside the envelope' }),
          ]
        : [
            el('b', { text: q.job }),
            ' on ' +
              q.asset +
              ': ' +
              local(q.window.startLocal) +
              '–' +
              local(q.window.endLocal).slice(11) +
              ' ' +
              q.window.timeZone +
              ', expected ' +
              eur(q.window.expectedCostEur) +
              ', RUL ' +
              days(q.rulMs),
          ];
    ul.appendChild(
      el(
        'li',
        { 'data-kind': q.kind, 'data-proposal-id': q.id },
        what.concat([
          ' · ' +
            q.approvals +
            ' of ' +
            q.requiredApprovals +
            ' approvals · ' +
            expiry +
            (q.instance ? ' · on instance ' + q.instance : '') +
            ' · ',
          el('a', { href: ROOT + 'twinloop/approvals', text: 'decide on the approvals page' }),
        ]),
      ),
    );
  });
  $('no-proposals').hidden = S.proposals.length > 0;
}

login.start();
