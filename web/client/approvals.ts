/**
 * The supervisors' approvals page's browser script (bundled by tsup to dist/web/client/approvals.js
 * and inlined by web/server/approvals-html.ts under the page's nonce). Control-room rules: greys
 * throughout; colour only for what is abnormal (a failing envelope check, an expiring proposal,
 * uncertain inputs, a broken ledger chain). The JSON it reads is web/server/approvals-api.ts's.
 */
import { formatEur as eur } from '../../runtime/model/money.js';
import { $, el, hms, input, pad2, svg, unit } from './dom.js';
import { setUpLogin } from './login.js';
import { bodyOf, readAnswer, type Answer } from './answer.js';
import type * as Api from './approvals-types.js';
import type { PredictedEffect } from '../../runtime/model/control.js';
import type { MaintenanceOrder, MaintenanceWindow } from '../../runtime/model/maintenance.js';
import { DEFAULT_MEANING, MAINTENANCE_MEANING, type TrendPoint } from '../../runtime/control/gate-registry.js';

// The admin root is wherever this page is served from: <root>twinloop/approvals.
const ROOT = location.pathname.replace(/twinloop\/approvals\/?$/, '');
const API = ROOT + 'twinloop/approvals/api/';
const OWN_KEY = 'twinloop-approvals-token';
const POLL_MS = 2000;
const EXPIRING_MS = 120000;
// the standard meaning of a signature per verdict, prefilled in the dialog (the gates record the same when none is given)
const MEANING = DEFAULT_MEANING;
const MEANING_MAINTENANCE = MAINTENANCE_MEANING;

type Verdict = 'approve' | 'reject';
/** What the signature dialog signs: a decision on a proposal, or switching a gate's auto-approval. */
type Signing = { kind: 'decide'; verdict: Verdict; view: Api.View } | { kind: 'policy'; gate: Api.SetpointGate; enabled: boolean };
/** A card on the page: its element and what it showed (rebuilt only when that changes). */
interface Card {
  el: HTMLElement;
  main: string;
  trend: string;
}
type Format = (v: number) => string;
type Effect = Omit<PredictedEffect, 'others'>;

const S = {
  token: null as string | null,
  adminAuth: false,
  loginType: null as string | null,
  me: null as Api.Me | null,
  gates: [] as Api.Gate[],
  clockOffsetMs: 0,
  tab: 'pending',
  cards: {} as Record<string, Card>,
  historyAt: 0,
  sign: null as Signing | null,
  timer: null as ReturnType<typeof setInterval> | null,
};

/** Drop trailing zeros ("5.00" → "5", "0.4200" → "0.42"); a true minus sign. */
function plain(s: string): string {
  if (s.indexOf('e') < 0 && s.indexOf('.') >= 0) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s.replace(/^-/, '−');
}
/** A value as set or configured (setpoints, limits, steps): the precision it has, no padding. */
function fmt(v: number | undefined): string {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  return plain(String(Number(v.toPrecision(6))));
}
/**
 * An estimate (model output, KPI) to a readable resolution. Zeros the rounding produced are kept
 * (0.2498 → "0.2500": four digits, like its neighbours); a value that simply has fewer digits is
 * shown as it is (0.42 → "0.42").
 */
function est(v: number | undefined): string {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  const a = Math.abs(v);
  const s = a >= 1000 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(4);
  return exact(s, v) ? plain(s) : s.replace(/^-/, '−');
}
/** Fit statistics: a few significant digits are all they carry. */
function sig(v: number | undefined, digits: number): string {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  const s = v === 0 ? '0' : v.toPrecision(digits);
  return exact(s, v) ? plain(s) : s.replace(/^-/, '−');
}
function exact(s: string, v: number): boolean {
  return Math.abs(Number(s) - v) <= 1e-9 * Math.max(1, Math.abs(v));
}
/** Numbers of one interval to the same decimals: two significant digits of its width. */
function byWidth(width: number): Format {
  if (!(width > 0) || !isFinite(width)) return est;
  const decimals = Math.max(0, Math.min(12, 1 - Math.floor(Math.log10(width))));
  return function (v: number) {
    if (typeof v !== 'number' || !isFinite(v)) return '–';
    const s = v.toFixed(decimals);
    return (Number(s) === 0 ? s.replace(/^-/, '') : s).replace(/^-/, '−');
  };
}
function signed(v: number, f?: Format): string {
  return (v > 0 ? '+' : v < 0 ? '−' : '±') + (f || fmt)(Math.abs(v));
}
function ymd(d: Date): string {
  return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
}
/** 24-hour local time (the browser's zone is the plant's); the date only when it is not today. */
function when(ms: number): string {
  const d = new Date(ms);
  const time = pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  return ymd(d) === ymd(new Date(now())) ? time : ymd(d) + ' ' + time;
}
/** The printed name with the login, e.g. "Dana Reyes (shift supervisor) — login supervisor". */
function person(printedName: string | null | undefined, user: string | null | undefined): string {
  if (!user) return printedName || '';
  return printedName && printedName !== user ? printedName + ' — login ' + user : 'login ' + user;
}
function baseName(path: string): string {
  return String(path).split(/[\\/]/).pop()!;
}
function left(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000),
    m = Math.floor(s / 60),
    h = Math.floor(m / 60);
  return (h ? h + ' h ' + (m % 60) + ' min' : m ? m + ' min ' + (s % 60) + ' s' : s + ' s') + ' left';
}
function now(): number {
  return Date.now() + S.clockOffsetMs;
}

// ---- maintenance windows: the plant's local time, money, durations ---------------------------
/** Date, 24-hour time and UTC offset of an instant in the plant's IANA zone (not the browser's). */
function zoned(ms: number, zone: string): { date: string; time: string; offset: string } {
  const parts: Record<string, string> = {};
  try {
    new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    })
      .formatToParts(new Date(ms))
      .forEach(function (x) {
        parts[x.type] = x.value;
      });
  } catch {
    return { date: new Date(ms).toISOString().slice(0, 10), time: new Date(ms).toISOString().slice(11, 16), offset: 'UTC' };
  }
  return {
    date: parts.weekday + ' ' + parts.year + '-' + parts.month + '-' + parts.day,
    time: parts.hour + ':' + parts.minute,
    offset: parts.timeZoneName,
  };
}
/** "Sat 2026-12-05 06:00 – 10:00 Europe/Berlin (GMT+1)"; the end's date and offset only when they differ. */
function windowText(w: { startMs: number; endMs: number; timeZone: string }): string {
  const a = zoned(w.startMs, w.timeZone),
    b = zoned(w.endMs, w.timeZone);
  const end = (b.date !== a.date ? b.date + ' ' : '') + b.time + (b.offset !== a.offset ? ' (' + b.offset + ')' : '');
  return a.date + ' ' + a.time + ' – ' + end + ' ' + w.timeZone + ' (' + a.offset + ')';
}
// a probability for people: below 0.1 % the digits mean nothing to a supervisor
function pct(p: number): string {
  return typeof p === 'number' && isFinite(p) ? (p < 0.001 ? '<0.1 %' : sig(100 * p, 2) + ' %') : '–';
}
function span(ms: number): string {
  if (typeof ms !== 'number' || !isFinite(ms)) return '–';
  const h = ms / 3600000;
  return Math.abs(h) >= 48 ? sig(h / 24, 3) + ' d' : sig(h, 3) + ' h';
}
/** Until when a proposal can be decided: its expiry, or a maintenance window's start if sooner. */
function deadline(v: Api.View): number {
  return v.kind === 'maintenance' ? Math.min(v.proposal.expiresTsMs, v.proposal.window.startMs) : v.proposal.expiresTsMs;
}

// ---- talking to Node-RED ------------------------------------------------------------------
/** What the API answers with 200, per route (approvals-types.ts; the decisions' answers are read for their status only). */
interface Routes {
  me: Api.Me;
  gates: { gates: Api.Gate[]; cluster?: Api.ClusterInfo };
  proposals: { nowMs: number; proposals: Api.View[] };
  history: { nowMs: number; ledgers: Api.Ledger[] };
  decide: unknown;
  'auto-approval': unknown;
}
function call<P extends keyof Routes>(method: string, path: P, body?: object): Promise<Answer<Routes[P]>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (S.token) headers.Authorization = 'Bearer ' + S.token;
  if (body) headers['Content-Type'] = 'application/json';
  // a hung request must not stop the polling for good (a control-room screen runs for days)
  const abort = new AbortController();
  const timer = setTimeout(function () {
    abort.abort();
  }, 15000);
  return fetch(API + path, {
    method: method,
    headers: headers,
    body: body ? JSON.stringify(body) : undefined,
    cache: 'no-store',
    signal: abort.signal,
  })
    .finally(function () {
      clearTimeout(timer);
    })
    .then(function (r) {
      return readAnswer<Routes[P]>(r);
    });
}
const login = setUpLogin({ root: ROOT, ownKey: OWN_KEY, state: S, notice, stopPolling, enter });
const showLogin = login.showLogin;
function enter(token: string | null): void {
  S.token = token;
  call('GET', 'me')
    .then(function (r) {
      if (r.status === 401) {
        sessionStorage.removeItem(OWN_KEY);
        return showLogin(token ? 'Your session has ended. Log in again.' : '');
      }
      if (r.status === 403) {
        $('logout').hidden = false;
        return showLogin(r.error || 'No access to approvals.');
      }
      if (r.status !== 200) return notice('The approvals API answered ' + r.status + '.', true);
      const me: Api.Me = (S.me = bodyOf(r));
      $('login').hidden = true;
      $('app').hidden = false;
      $('logout').hidden = !S.adminAuth;
      $('who').textContent = me.username ? person(me.printedName, me.username) + (me.canApprove ? '' : ' · read only') : 'not logged in';
      if (!me.adminAuth)
        notice(
          'Approvals need Node-RED adminAuth (logins). Without it every decision is refused: configure adminAuth in settings.js.',
          true,
        );
      else if (!me.canApprove) notice('Read only: you can look, but deciding needs the permission twinloop.approve.', false);
      else notice('', false);
      startPolling();
    })
    .catch(function () {
      notice('Node-RED did not answer: reload the page to try again.', true);
    });
}

function notice(text: string, abnormal: boolean): void {
  const n = $('notice');
  n.textContent = text;
  n.hidden = !text;
  n.className = 'banner' + (abnormal ? ' bad' : '');
}

// ---- polling: every 2 s while the page is visible -------------------------------------------
function startPolling(): void {
  stopPolling();
  refresh();
  S.timer = setInterval(function () {
    if (!document.hidden) refresh();
    else tickClocks();
  }, POLL_MS);
}
function stopPolling(): void {
  if (S.timer) clearInterval(S.timer);
  S.timer = null;
}
document.addEventListener('visibilitychange', function () {
  if (!document.hidden && S.timer) refresh();
});
setInterval(tickClocks, 1000);

let busy = false;
function refresh(): void {
  if (busy) return;
  busy = true;
  const wantHistory = S.tab === 'history' && Date.now() - S.historyAt > 5000;
  void Promise.all([call('GET', 'gates'), call('GET', 'proposals'), wantHistory ? call('GET', 'history') : null])
    .then(function ([gates, proposals, history]) {
      if (gates.status === 401 || proposals.status === 401 || (history && history.status === 401))
        return showLogin('Your session has ended. Log in again.');
      if (gates.status === 200) {
        renderGates(bodyOf(gates).gates);
        renderTakeover(bodyOf(gates).cluster);
      }
      if (proposals.status === 200) {
        const p = bodyOf(proposals);
        S.clockOffsetMs = p.nowMs - Date.now();
        renderProposals(p.proposals);
      }
      if (history && history.status === 200) {
        S.historyAt = Date.now();
        renderHistory(bodyOf(history).ledgers);
      }
    })
    .catch(function () {
      notice('Lost contact with Node-RED. Retrying…', true);
    })
    .then(function () {
      busy = false;
    });
}

// ---- tabs ----------------------------------------------------------------------------------
function selectTab(name: string): void {
  S.tab = name;
  ['pending', 'history'].forEach(function (t) {
    $('tab-' + t).setAttribute('aria-selected', String(t === name));
    $('panel-' + t).hidden = t !== name;
  });
  if (name === 'history') {
    S.historyAt = 0;
    refresh();
  }
}
$('tab-pending').addEventListener('click', function () {
  selectTab('pending');
});
$('tab-history').addEventListener('click', function () {
  selectTab('history');
});

// ---- gates and the auto-approval policy -------------------------------------------------------
function renderGates(gates: Api.Gate[]): void {
  S.gates = gates;
  const box = $('gates');
  const key =
    JSON.stringify(
      gates.map(function (gate) {
        const g = gate as Partial<Api.SetpointGate> & Partial<Api.MaintenanceGate>;
        return [g.id, g.name, g.autoApproval, g.twoPersonAboveStep, g.twoPersonAboveEur, g.alarm, g.instance, g.line];
      }),
    ) + (S.me && S.me.canApprove);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.textContent = '';
  if (!gates.length) box.appendChild(el('p', { className: 'muted', text: 'No approval gate is deployed.' }));
  gates.forEach(function (g) {
    // a gate that could not start on its ledger: it refuses to act; say why and what to do
    if (g.alarm) {
      box.appendChild(
        el('div', { className: 'banner bad gate-alarm', role: 'alert', 'aria-label': 'Alarm: gate ' + g.name }, [
          el('strong', { text: 'Gate ' + g.name + ' refuses to act: its ledger cannot be trusted.' }),
          el('p', { text: g.alarm.reason }),
          el('p', { text: 'What to do: ' + g.alarm.remedy }),
        ]),
      );
      return;
    }
    if (g.kind === 'maintenance') {
      box.appendChild(
        el('div', { className: 'gate', role: 'group', 'aria-label': 'Gate ' + g.name }, [
          el('strong', { text: g.name }),
          el('span', { className: 'muted', text: g.asset + ' / maintenance windows' }),
          el('span', { text: g.twoPersonAboveEur === null ? 'one approver' : 'two approvers above ' + eur(g.twoPersonAboveEur) }),
          servedBy(g),
        ]),
      );
      return;
    }
    const on = !!(g.autoApproval && g.autoApproval.enabled);
    // a policy the flow did not configure (no band) cannot be switched on from here
    const configured = !!(g.autoApproval && g.autoApproval.configured);
    const sw = configured
      ? el('button', {
          type: 'button',
          role: 'switch',
          'aria-checked': String(on),
          'aria-label': 'Auto-approval for ' + g.name,
          disabled: !(S.me && S.me.canApprove),
          text: on ? 'On' : 'Off',
          onclick: function () {
            openSign({ kind: 'policy', gate: g, enabled: !on });
          },
        })
      : null;
    box.appendChild(
      el('div', { className: 'gate', role: 'group', 'aria-label': 'Gate ' + g.name }, [
        el('strong', { text: g.name }),
        el('span', { className: 'muted', text: g.asset + ' / ' + g.tag }),
        el('span', {
          text: g.twoPersonAboveStep === null ? 'one approver' : 'two approvers above ' + fmt(g.twoPersonAboveStep) + unit(g.unit),
        }),
        el('span', {
          text: configured ? 'Auto-approval (up to ' + fmt(g.autoApproval.maxStep) + unit(g.unit) + '):' : 'Auto-approval: not configured',
        }),
        sw,
        servedBy(g),
      ]),
    );
  });
}

/** In a cluster: the instance that decides the gate (the owner of its line), and the line. */
function servedBy(g: Api.Gate): HTMLElement | null {
  if (!g.instance) return null;
  return el('span', { className: 'muted instance', text: 'on instance ' + g.instance + (g.line ? ' (line ' + g.line + ')' : '') });
}

/**
 * Lines no instance answered for: their owner is gone and the next one has not taken over yet (or it
 * serves no gates). Their gates are missing and a decision on them is refused, never queued.
 */
function renderTakeover(cluster: Api.ClusterInfo | undefined): void {
  const n = $('takeover');
  const lines = cluster ? cluster.unowned : [];
  n.hidden = !lines.length;
  n.textContent = lines.length
    ? 'Takeover in progress: no instance serves ' +
      (lines.length === 1 ? 'line ' : 'lines ') +
      lines.join(', ') +
      ' now. Its gates are not shown, and a decision on them is refused (not queued) until an owner serves them again.'
    : '';
}

// ---- proposals ------------------------------------------------------------------------------
function renderProposals(views: Api.View[]): void {
  const seen: Record<string, boolean> = {};
  const pending = views.filter(function (v) {
    return v.state === 'pending';
  });
  const ended = views.filter(function (v) {
    return v.state !== 'pending';
  });
  pending.sort(function (a, b) {
    return deadline(a) - deadline(b);
  });
  ended.sort(function (a, b) {
    return b.proposal.createdTsMs - a.proposal.createdTsMs;
  });
  place($('proposals'), pending, seen);
  place($('ended'), ended, seen);
  for (const id in S.cards)
    if (!seen[id]) {
      S.cards[id].el.remove();
      delete S.cards[id];
    }
  $('no-proposals').hidden = pending.length > 0;
  $('ended-title').hidden = ended.length === 0;
  tickClocks();
}

/** Cards are rebuilt only when what they show changes, so a button keeps its focus between polls. */
function place(container: HTMLElement, views: Api.View[], seen: Record<string, boolean>): void {
  views.forEach(function (v, i) {
    const id = v.gateId + '/' + v.proposal.id;
    seen[id] = true;
    const maintenance = v.kind === 'maintenance';
    const main = JSON.stringify(
      maintenance
        ? [v.state, v.reason, v.decisions, v.requiredApprovals, v.proposal, v.order, S.me && S.me.canApprove]
        : [
            v.state,
            v.reason,
            v.decisions,
            v.requiredApprovals,
            v.envelope.ok,
            v.envelope.violations,
            v.envelope.version,
            v.proposal,
            S.me && S.me.canApprove,
          ],
    );
    const trend = maintenance ? '' : JSON.stringify(v.trend);
    let c = S.cards[id];
    if (!c || c.main !== main) {
      const fresh: Card = { el: maintenance ? maintenanceCard(v) : card(v), main: main, trend: trend };
      if (c) c.el.replaceWith(fresh.el);
      S.cards[id] = c = fresh;
    } else if (c.trend !== trend) {
      c.el.querySelector('svg.chart')!.replaceWith(chart(v as Api.SetpointView));
      c.trend = trend;
    }
    if (container.children[i] !== c.el) container.insertBefore(c.el, container.children[i] || null);
  });
}

/**
 * A KPI's predicted value with its prediction interval (one sample), and beside it the confidence
 * interval of the mean change when the proposer gives it (what the move gains on average).
 */
function effectDd(e: Effect, prefix: string): HTMLElement {
  const lines = [
    el('span', {
      className: 'line',
      text:
        prefix +
        est(e.currentKpi) +
        ' → ' +
        est(e.predictedKpi) +
        unit(e.kpiUnit) +
        ' (' +
        e.intervalPct +
        ' % interval ' +
        est(e.lowKpi) +
        ' – ' +
        est(e.highKpi) +
        ')',
    }),
  ];
  if (typeof e.changeLowKpi === 'number' && typeof e.changeHighKpi === 'number') {
    const f = byWidth(e.changeHighKpi - e.changeLowKpi);
    lines.push(
      el('span', {
        className: 'line',
        text:
          'mean change ' +
          signed(e.predictedKpi - e.currentKpi, f) +
          unit(e.kpiUnit) +
          ' (' +
          e.intervalPct +
          ' % CI ' +
          f(e.changeLowKpi) +
          ' to ' +
          f(e.changeHighKpi) +
          ')',
      }),
    );
  }
  return el('dd', {}, lines);
}

function card(v: Api.SetpointView): HTMLElement {
  const p = v.proposal,
    e = p.predictedEffect,
    pending = v.state === 'pending';
  const label = p.asset + ' / ' + p.tag;
  const envelope = v.envelope.ok
    ? el('dd', { text: 'within the envelope (version ' + v.envelope.version + ')' })
    : el('dd', {}, [
        el(
          'ul',
          { className: 'violations', 'aria-label': 'Envelope violations' },
          v.envelope.violations.map(function (x) {
            return el('li', { text: x.code + ': ' + x.message });
          }),
        ),
      ]);
  const rows = [el('dt', { text: 'Predicted effect' }), effectDd(e, e.kpiTag + ': ')];
  (e.others || []).forEach(function (o) {
    rows.push(el('dt', { text: o.kpiTag }), effectDd(o, ''));
  });
  rows.push(
    el('dt', { text: 'Model' }),
    el('dd', {
      text:
        p.fit.method +
        ', n = ' +
        p.fit.n +
        ', R² = ' +
        sig(p.fit.r2, 2) +
        ', RMSE ' +
        sig(p.fit.rmse, 2) +
        unit(e.kpiUnit) +
        '; setpoints seen ' +
        fmt(p.fitRange.setpointMin) +
        ' – ' +
        fmt(p.fitRange.setpointMax) +
        unit(p.unit),
    }),
    el('dt', { text: 'Envelope check' }),
    envelope,
  );
  decisionRows(v, rows);
  return el('article', { className: 'card' + (pending ? '' : ' ended'), 'aria-label': 'Proposal ' + label, 'data-proposal-id': p.id }, [
    el('div', { className: 'card-body' }, [
      el('h2', {}, [
        el('span', { text: label }),
        el('span', { className: 'state', text: v.state }),
        pending ? el('span', { className: 'expiry', 'data-expires': p.expiresTsMs }) : null,
      ]),
      el('div', { className: 'change', 'aria-label': 'Change' }, [
        fmt(p.currentValue),
        el('span', { className: 'arrow', text: '→' }),
        el('strong', { text: fmt(p.proposedValue) }),
        unit(p.unit),
        el('span', { className: 'muted', text: '  (' + signed(p.proposedValue - p.currentValue) + ')' }),
      ]),
      el('p', { className: 'rationale', text: p.rationale }),
      chart(v),
      el('dl', {}, rows),
      decideButtons(v),
    ]),
  ]);
}

/** Approvals so far, who decided, input quality and why it ended: the same on both kinds of card. */
function decisionRows(v: Api.View, rows: HTMLElement[]): HTMLElement[] {
  const approvals = v.decisions.filter(function (d) {
    return d.verdict === 'approve';
  });
  rows.push(
    el('dt', { text: 'Approvals' }),
    el('dd', { text: approvals.length + ' of ' + v.requiredApprovals + ' needed' + (v.requiredApprovals > 1 ? ' (two-person rule)' : '') }),
  );
  v.decisions.forEach(function (d) {
    rows.push(
      el('dt', { text: d.verdict === 'approve' ? 'Approved by' : 'Rejected by' }),
      el('dd', { text: person(d.printedName, d.user) + ', ' + when(d.tsMs) + ': ' + d.reason }),
    );
  });
  const p = v.proposal;
  if (p.quality !== 'good')
    rows.push(
      el('dt', { text: 'Inputs' }),
      el('dd', {}, [el('span', { className: 'warn', text: p.quality + (p.qualityReason ? ': ' + p.qualityReason : '') })]),
    );
  if (v.reason) rows.push(el('dt', { text: 'Reason' }), el('dd', { text: v.reason }));
  return rows;
}

function decideButtons(v: Api.View): HTMLElement | null {
  const me = S.me;
  if (v.state !== 'pending' || !me || !me.canApprove) return null;
  const mine = v.decisions.some(function (d) {
    return d.user === me.username;
  });
  return el('div', { className: 'actions' }, [
    el('button', {
      type: 'button',
      className: 'primary',
      disabled: mine || undefined,
      title: mine ? 'You have already decided on this proposal' : undefined,
      text: 'Approve',
      onclick: function () {
        openSign({ kind: 'decide', verdict: 'approve', view: v });
      },
    }),
    el('button', {
      type: 'button',
      disabled: mine || undefined,
      text: 'Reject',
      onclick: function () {
        openSign({ kind: 'decide', verdict: 'reject', view: v });
      },
    }),
  ]);
}

/** A maintenance window: when (plant time), what it costs and why, the risk it rests on, the runners-up. */
function maintenanceCard(v: Api.MaintenanceCardView): HTMLElement {
  const p = v.proposal,
    w = p.window,
    c = w.costParts,
    r = p.rul,
    pending = v.state === 'pending';
  const rows = [
    el('dt', { text: 'Asset' }),
    el('dd', { text: p.asset }),
    el('dt', { text: 'Expected cost' }),
    el('dd', {}, [
      el('span', { className: 'line', text: eur(w.expectedCostEur) }),
      el('span', {
        className: 'line muted',
        text:
          'job ' +
          eur(c.jobEur) +
          ' + downtime ' +
          eur(c.downtimeEur) +
          ' + expected failure ' +
          eur(c.expectedFailureEur) +
          ' + energy ' +
          eur(c.energyEur),
      }),
    ]),
    el('dt', { text: 'P(failure before window)' }),
    el('dd', { text: pct(w.failureProbability) }),
    el('dt', { text: 'Remaining useful life' }),
    el('dd', {
      text:
        'P10 ' +
        span(r.rulP10Ms) +
        ' · P50 ' +
        span(r.rulMs) +
        ' · P90 ' +
        span(r.rulP90Ms) +
        ' (health index ' +
        sig(r.healthIndex, 2) +
        ', as of ' +
        when(r.tsMs) +
        ')',
    }),
    el('dt', { text: 'Production lost' }),
    el('dd', { text: fmt(w.productionLossMinutes) + ' min' }),
    el('dt', { text: 'Why this window' }),
    el('dd', { text: w.why }),
  ];
  if (p.alternatives.length) {
    rows.push(
      el('dt', { text: 'Alternatives' }),
      el('dd', {}, [
        el(
          'ul',
          { className: 'alternatives', 'aria-label': 'Alternative windows' },
          p.alternatives.map(function (a) {
            return el('li', {
              text:
                '#' +
                a.rank +
                ' ' +
                windowText(a) +
                ': ' +
                eur(a.expectedCostEur) +
                ', P(failure before) ' +
                pct(a.failureProbability) +
                (a.why ? ' — ' + a.why : ''),
            });
          }),
        ),
      ]),
    );
  }
  decisionRows(v, rows);
  if (v.order)
    rows.push(el('dt', { text: 'Order' }), el('dd', { text: 'issued ' + when(v.order.issuedTsMs) + ', signed, id ' + v.order.id }));
  return el(
    'article',
    {
      className: 'card maintenance' + (pending ? '' : ' ended'),
      'aria-label': 'Maintenance proposal ' + p.asset + ': ' + p.job,
      'data-proposal-id': p.id,
    },
    [
      el('div', { className: 'card-body' }, [
        el('h2', {}, [
          el('span', { text: 'Maintenance: ' + p.job }),
          el('span', { className: 'state', text: v.state }),
          pending ? el('span', { className: 'expiry', 'data-expires': deadline(v) }) : null,
        ]),
        el('div', { className: 'change window', 'aria-label': 'Window' }, [el('strong', { text: windowText(w) })]),
        el('p', { className: 'rationale', text: p.rationale }),
        el('dl', {}, rows),
        decideButtons(v),
      ]),
    ],
  );
}

function tickClocks(): void {
  const t = now();
  document.querySelectorAll('[data-expires]').forEach(function (x) {
    const ms = Number(x.getAttribute('data-expires')) - t;
    x.textContent = left(ms);
    x.className = 'expiry' + (ms < EXPIRING_MS ? ' warn' : '');
  });
}

/**
 * Recent history at a glance: the setpoint (top) and the KPI (bottom) over time; at the right
 * edge the proposed setpoint and the predicted KPI with its interval band.
 */
function chart(v: Api.SetpointView): SVGElement {
  const p = v.proposal,
    e = p.predictedEffect,
    W = 480,
    H = 170,
    L = 56,
    R = 390,
    END = 470;
  const sp = v.trend.setpoint,
    kpi = v.trend.kpi;
  const times = sp.concat(kpi).map(function (x) {
    return x.tsMs;
  });
  const t1 = times.length ? Math.max.apply(null, times) : now();
  let t0 = times.length ? Math.min.apply(null, times) : t1 - 600000;
  if (t1 - t0 < 60000) t0 = t1 - 60000;
  function x(t: number): number {
    return L + ((t - t0) / (t1 - t0)) * (R - L);
  }
  const s = svg('svg', {
    viewBox: '0 0 ' + W + ' ' + H,
    class: 'chart',
    role: 'img',
    'aria-label':
      'Last ' +
      Math.round((t1 - t0) / 60000) +
      ' min of ' +
      p.tag +
      ' and ' +
      e.kpiTag +
      '; proposed ' +
      fmt(p.proposedValue) +
      unit(p.unit) +
      ', predicted ' +
      e.kpiTag +
      ' ' +
      est(e.predictedKpi) +
      ' (' +
      est(e.lowKpi) +
      ' – ' +
      est(e.highKpi) +
      ')',
  });
  function panel(
    top: number,
    bottom: number,
    points: TrendPoint[],
    values: number[],
    name: string,
    step: boolean,
    f: Format,
  ): (v: number) => number {
    let lo = Math.min.apply(null, values),
      hi = Math.max.apply(null, values);
    if (hi - lo < 1e-9) {
      lo -= 1;
      hi += 1;
    }
    const pad = (hi - lo) * 0.1;
    lo -= pad;
    hi += pad;
    function y(val: number): number {
      return bottom - ((val - lo) / (hi - lo)) * (bottom - top);
    }
    s.appendChild(svg('rect', { x: L, y: top, width: END - L, height: bottom - top, fill: 'none', stroke: '#d0d0d0' }));
    s.appendChild(svg('line', { x1: R, y1: top, x2: R, y2: bottom, stroke: '#b0b0b0', 'stroke-dasharray': '3 3' }));
    [hi - pad, lo + pad].forEach(function (a) {
      const t = svg('text', { x: L - 4, y: y(a) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' });
      t.textContent = f(a);
      s.appendChild(t);
    });
    if (points.length) {
      let d = '';
      points.forEach(function (pt, i) {
        const px = x(pt.tsMs).toFixed(1),
          py = y(pt.value).toFixed(1);
        if (i === 0) d = 'M' + px + ' ' + py;
        else d += step ? ' H' + px + ' V' + py : ' L' + px + ' ' + py;
      });
      if (step) d += ' H' + R;
      s.appendChild(svg('path', { d: d, fill: 'none', stroke: '#333', 'stroke-width': 1.6 }));
    }
    // the series name over the line, with a halo so the line does not strike through it
    const n = svg('text', {
      x: L + 4,
      y: top + 12,
      'font-size': 11,
      fill: '#444',
      stroke: '#fff',
      'stroke-width': 3,
      'paint-order': 'stroke',
    });
    n.textContent = name;
    s.appendChild(n);
    return y;
  }
  const ys = panel(
    8,
    72,
    sp,
    sp
      .map(function (q) {
        return q.value;
      })
      .concat([p.currentValue, p.proposedValue]),
    p.tag + unit(p.unit),
    true,
    est,
  );
  s.appendChild(
    svg('path', {
      d: 'M' + R + ' ' + ys(p.currentValue).toFixed(1) + ' V' + ys(p.proposedValue).toFixed(1) + ' H' + END,
      fill: 'none',
      stroke: '#111',
      'stroke-width': 2,
      'stroke-dasharray': '6 3',
    }),
  );
  const yk = panel(
    88,
    152,
    kpi,
    kpi
      .map(function (q) {
        return q.value;
      })
      .concat([e.currentKpi, e.lowKpi, e.highKpi]),
    e.kpiTag + unit(e.kpiUnit),
    false,
    est,
  );
  s.appendChild(
    svg('rect', {
      x: R,
      y: yk(e.highKpi).toFixed(1),
      width: END - R,
      height: Math.max(1, yk(e.lowKpi) - yk(e.highKpi)).toFixed(1),
      fill: '#c8c8c8',
      'fill-opacity': 0.7,
    }),
  );
  s.appendChild(svg('line', { x1: R, y1: yk(e.predictedKpi), x2: END, y2: yk(e.predictedKpi), stroke: '#111', 'stroke-width': 2 }));
  s.appendChild(svg('circle', { cx: R, cy: yk(e.currentKpi), r: 3, fill: '#555' }));
  const tl = svg('text', { x: L, y: H - 2, 'font-size': 11, fill: '#555' });
  tl.textContent = '−' + Math.round((t1 - t0) / 60000) + ' min';
  s.appendChild(tl);
  const tn = svg('text', { x: R, y: H - 2, 'font-size': 11, fill: '#555', 'text-anchor': 'middle' });
  tn.textContent = 'now';
  s.appendChild(tn);
  const tp = svg('text', { x: END, y: H - 2, 'font-size': 11, fill: '#555', 'text-anchor': 'end' });
  tp.textContent = 'proposed';
  s.appendChild(tp);
  return s;
}

// ---- the signature dialog ----------------------------------------------------------------------
function openSign(what: Signing): void {
  S.sign = what;
  const d = $<HTMLDialogElement>('sign');
  $('sign-error').textContent = '';
  $<HTMLTextAreaElement>('sign-reason').value = '';
  input('sign-password').value = '';
  $('sign-as').textContent = 'Signed as ' + person(S.me!.printedName, S.me!.username);
  if (what.kind === 'decide') {
    const view = what.view;
    const approve = what.verdict === 'approve';
    const maintenance = view.kind === 'maintenance';
    $('sign-title').textContent = (approve ? 'Approve' : 'Reject') + (maintenance ? ' maintenance window' : ' setpoint change');
    if (view.kind === 'maintenance') {
      const m = view.proposal;
      $('sign-summary').textContent =
        m.asset + ': ' + m.job + ', ' + windowText(m.window) + ', expected cost ' + eur(m.window.expectedCostEur);
    } else {
      const p = view.proposal;
      $('sign-summary').textContent = p.asset + ' / ' + p.tag + ': ' + fmt(p.currentValue) + ' → ' + fmt(p.proposedValue) + unit(p.unit);
    }
    $('sign-meaning-row').hidden = false;
    input('sign-meaning').value = (maintenance ? MEANING_MAINTENANCE : MEANING)[what.verdict];
    $('sign-submit').textContent = approve ? 'Sign and approve' : 'Sign and reject';
  } else {
    $('sign-title').textContent = 'Switch auto-approval ' + (what.enabled ? 'on' : 'off');
    $('sign-summary').textContent = 'Gate ' + what.gate.name + ' (' + what.gate.asset + ' / ' + what.gate.tag + ')';
    $('sign-meaning-row').hidden = true;
    $('sign-submit').textContent = 'Sign and switch ' + (what.enabled ? 'on' : 'off');
  }
  d.showModal();
  $('sign-reason').focus();
}
$('sign-cancel').addEventListener('click', function () {
  $<HTMLDialogElement>('sign').close();
  S.sign = null;
});
$('sign-form').addEventListener('submit', function (ev) {
  ev.preventDefault();
  const w = S.sign;
  if (!w) return;
  const reason = $<HTMLTextAreaElement>('sign-reason').value.trim();
  if (!reason) {
    $('sign-error').textContent = 'Give a reason.';
    $('sign-reason').focus();
    return;
  }
  const meaning = input('sign-meaning').value.trim();
  if (w.kind === 'decide' && !meaning) {
    $('sign-error').textContent = 'Give the meaning of your signature.';
    $('sign-meaning').focus();
    return;
  }
  let body, path: 'decide' | 'auto-approval';
  if (w.kind === 'decide') {
    path = 'decide';
    body = {
      gateId: w.view.gateId,
      proposalId: w.view.proposal.id,
      verdict: w.verdict,
      reason: reason,
      meaning: meaning,
      password: input('sign-password').value,
    };
  } else {
    path = 'auto-approval';
    body = { gateId: w.gate.id, enabled: w.enabled, reason: reason, password: input('sign-password').value };
  }
  $<HTMLButtonElement>('sign-submit').disabled = true;
  void call('POST', path, body)
    .then(function (r) {
      input('sign-password').value = '';
      if (r.status === 200) {
        $<HTMLDialogElement>('sign').close();
        S.sign = null;
        S.historyAt = 0;
        refresh();
        return;
      }
      if (r.status === 401 && !r.error) {
        $<HTMLDialogElement>('sign').close();
        return showLogin('Your session has ended. Log in again.');
      }
      $('sign-error').textContent = r.error || 'Refused (' + r.status + ').';
      $('sign-password').focus();
    })
    .catch(function () {
      $('sign-error').textContent = 'Node-RED did not answer: the decision may not be recorded; check the history.';
    })
    .then(function () {
      $<HTMLButtonElement>('sign-submit').disabled = false;
    });
});

// ---- history -------------------------------------------------------------------------------
function renderHistory(ledgers: Api.Ledger[]): void {
  const box = $('history');
  box.textContent = '';
  if (!ledgers.length) box.appendChild(el('p', { className: 'muted', text: 'No approval gate is deployed.' }));
  ledgers.forEach(function (l) {
    const v = l.verification;
    let chain;
    const name = l.gates
      .map(function (g) {
        return g.name;
      })
      .join(', ');
    // the file name; the full path on hover (a long absolute path pushed the status off the line)
    const file = el('span', { className: 'file', title: l.ledgerLocation, text: baseName(l.ledgerLocation) });
    if (v.ok === true)
      chain = el('p', { className: 'chain', role: 'status' }, ['Ledger chain verified: ' + v.records + ' records intact (', file, ')']);
    else if (v.ok === false)
      chain = el('p', { className: 'chain bad', role: 'status' }, [
        'Ledger chain BROKEN' +
          (v.firstBad ? ' at record ' + v.firstBad.seq + ' (line ' + v.firstBad.line + '): ' + v.firstBad.reason : '') +
          ' (',
        file,
        ')',
      ]);
    else
      chain = el('p', {
        className: 'chain',
        role: 'status',
        title: l.ledgerLocation,
        text: 'Ledger chain not verified: ' + (v as { reason: string }).reason,
      });
    const rows = l.records.map(function (r) {
      const d = describe(r, l.writers || {});
      return el('tr', {}, [
        el('td', { className: 'num', text: when(r.tsMs) }),
        el('td', { text: d.event }),
        el('td', { text: r.asset ? r.asset + ' / ' + (r.tag || 'maintenance') : '' }),
        el('td', { text: d.by }),
        el('td', { text: d.details }),
        el('td', { className: 'num', text: String(r.seq) }),
      ]);
    });
    box.appendChild(
      el('section', { 'aria-label': 'History of ' + name }, [
        el('h2', { text: name }),
        chain,
        l.error ? el('p', { className: 'chain bad', text: 'The ledger cannot be read: ' + l.error }) : null,
        l.total > l.records.length
          ? el('p', { className: 'muted', text: 'Newest ' + l.records.length + ' of ' + l.total + ' records.' })
          : null,
        el('table', { 'aria-label': 'Ledger of ' + name }, [
          el('thead', {}, [
            el(
              'tr',
              {},
              ['Time', 'Event', 'Setpoint / asset', 'By', 'Details', 'Seq'].map(function (h) {
                return el('th', { scope: 'col', text: h });
              }),
            ),
          ]),
          el('tbody', {}, rows),
        ]),
      ]),
    );
  });
}

/**
 * The fields the history reads from a record's payload, over every record type the gates, writers and
 * twin-alarm write (runtime/model/control.ts, maintenance.ts, alarm/): each type has some of them.
 */
interface RecordFields {
  kind?: string;
  id?: string;
  user?: string;
  printedName?: string;
  verdict?: string;
  meaning?: string;
  reason?: string;
  message?: string;
  job?: string;
  window?: MaintenanceWindow;
  currentValue?: number;
  proposedValue?: number;
  unit?: string;
  rationale?: string;
  approvedBy?: string[];
  writer?: string;
  value?: number;
  step?: number;
  steps?: number;
  outcome?: string;
  presentValue?: unknown;
  readBackOk?: boolean;
  readBackValue?: number;
  enabled?: boolean;
  priority?: string;
  untilTsMs?: number;
  via?: string;
}

function describe(r: Api.Ledger['records'][number], writers: Record<string, string>): { event: string; by: string; details: string } {
  // the payload of the record's type (proposal, decision, command, write result, …), read field by field
  const d = (r.data || {}) as RecordFields;
  const writer = d.writer ? writers[d.writer] || 'writer ' + d.writer : 'writer';
  switch (r.type) {
    case 'decision':
      return {
        event: 'decision: ' + d.verdict,
        by: person(d.printedName, d.user),
        details: (d.meaning || '') + (d.reason ? ' — ' + d.reason : ''),
      };
    case 'proposal':
      if (d.kind === 'maintenance')
        return {
          event: 'maintenance proposal',
          by: 'twin',
          details: d.job + ', ' + windowText(d.window!) + ', expected cost ' + eur(d.window!.expectedCostEur),
        };
      return {
        event: 'proposal',
        by: 'twin',
        details: fmt(d.currentValue) + ' → ' + fmt(d.proposedValue) + unit(d.unit) + (d.rationale ? ': ' + d.rationale : ''),
      };
    case 'order':
      return {
        event: 'maintenance order',
        by: 'gate',
        details: d.job + ', ' + windowText(d as MaintenanceOrder) + ', approved by ' + (d.approvedBy || []).join(', ') + ', id ' + d.id,
      };
    case 'command':
      return { event: 'command', by: 'gate', details: 'write ' + fmt(d.value) + unit(d.unit) + ' (step ' + d.step + '/' + d.steps + ')' };
    case 'write':
      return { event: 'write: ' + (d.outcome || ''), by: writer, details: fmt(d.value) + (d.reason ? ' — ' + d.reason : '') };
    // the writer's write-ahead record: durable before the plant could take the value
    case 'write-intent':
      return {
        event: 'write intent',
        by: writer,
        details:
          'about to write ' +
          fmt(d.value) +
          (typeof d.presentValue === 'number' ? ' (present ' + fmt(d.presentValue) + ')' : '') +
          (d.steps ? ' (step ' + d.step + '/' + d.steps + ')' : ''),
      };
    case 'readback':
      return { event: 'read-back', by: writer, details: (d.readBackOk ? 'ok: ' : 'MISMATCH: ') + fmt(d.readBackValue) };
    case 'policy':
      return {
        event: 'policy',
        by: d.user || 'policy',
        details: (d.enabled === undefined ? '' : 'auto-approval ' + (d.enabled ? 'on' : 'off')) + (d.reason ? ' — ' + d.reason : ''),
      };
    // an operator's (or the system's) action on an alarm, from twin-alarm
    case 'alarm':
      return {
        event: 'alarm ' + d.kind + (d.priority ? ' (' + d.priority + ')' : ''),
        by: d.user || '',
        details: (d.reason || '') + (d.untilTsMs ? ' — until ' + hms(d.untilTsMs) : '') + (d.via ? ' [' + d.via + ']' : ''),
      };
    default:
      return { event: r.type, by: d.user || (d.writer ? writer : ''), details: d.reason || d.message || '' };
  }
}

login.start();
