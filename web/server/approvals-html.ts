/**
 * The supervisors' page: one self-contained HTML document (inline CSS and JS, no CDN, nothing to
 * fetch but the JSON API), kept as a string so the build ships it with the compiled module.
 * Control-room rules: greys throughout; colour only for what is abnormal (a failing envelope check,
 * an expiring proposal, uncertain inputs, a broken ledger chain). Data is only ever put in the page
 * through textContent / attributes, never parsed as HTML.
 * The client script below avoids template literals: this file is itself one template literal.
 */
import { LOGIN_CLIENT_JS } from './login-client.js';
import { EUR_CLIENT_JS } from '../../runtime/model/money.js';
import { MAX_MEANING_CHARS, MAX_REASON_CHARS } from '../../runtime/control/gate-registry.js';

export function approvalsPageHtml(nonce: string): string {
  return PAGE.replace(/__NONCE__/g, nonce);
}

const PAGE = String.raw`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TwinLoop approvals</title>
<style nonce="__NONCE__">
  :root { --bg:#e9e9e9; --card:#f8f8f8; --line:#c4c4c4; --text:#1d1d1d; --muted:#5c5c5c;
          --bad:#a4001d; --bad-bg:#fbe3e6; --warn:#6b4a00; --warn-bg:#fff0c2; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--text); font:18px/1.4 system-ui, "DejaVu Sans", Arial, sans-serif; }
  header.top { display:flex; align-items:center; gap:1.5rem; padding:.6rem 1.2rem; background:#d6d6d6; border-bottom:1px solid var(--line); }
  header.top h1 { font-size:1.3rem; margin:0; font-weight:600; }
  header.top .who { margin-left:auto; color:var(--muted); }
  button { font:inherit; padding:.35rem .9rem; border:1px solid #777; border-radius:4px; background:#fafafa; color:var(--text); cursor:pointer; }
  button:hover:not(:disabled) { background:#fff; border-color:#333; }
  button:disabled { color:#999; border-color:#bbb; cursor:not-allowed; }
  button.primary { font-weight:600; border-width:2px; }
  [role=tablist] { display:flex; gap:.3rem; padding:.6rem 1.2rem 0; border-bottom:1px solid var(--line); }
  [role=tab] { border-bottom:none; border-radius:4px 4px 0 0; background:#dcdcdc; }
  [role=tab][aria-selected=true] { background:var(--card); font-weight:600; }
  main { padding:1rem 1.2rem; }
  .banner { padding:.6rem 1rem; margin-bottom:1rem; border:1px solid var(--line); background:var(--card); }
  .bad { color:var(--bad); }
  .banner.bad, .chain.bad, .violations { background:var(--bad-bg); border-color:var(--bad); }
  .warn { color:var(--warn); background:var(--warn-bg); padding:0 .3rem; border-radius:3px; }
  .muted { color:var(--muted); }
  .gates { display:flex; flex-wrap:wrap; gap:.6rem; margin-bottom:1rem; }
  .gate { display:flex; align-items:center; gap:.8rem; padding:.4rem .8rem; border:1px solid var(--line); background:var(--card); }
  .gate-alarm { flex-basis:100%; margin:0; }
  .gate-alarm p { margin:.3rem 0 0; }
  [role=switch] { min-width:4.5rem; }
  [role=switch][aria-checked=true] { font-weight:600; }
  /* auto-fit: one card takes the whole row, two share it; narrow screens get one column */
  .cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(min(560px, 100%), 1fr)); gap:1rem; align-items:start; }
  .card { background:var(--card); border:1px solid var(--line); padding:.8rem 1rem; container:card / inline-size; }
  /* a card alone on a wide screen: the chart on the left, what it says and the decision on the right */
  @container card (min-width: 980px) {
    .card-body { display:grid; grid-template-columns:minmax(360px, 640px) minmax(0, 1fr); column-gap:1.5rem;
                 grid-template-areas:"head head" "chart change" "chart why" "chart facts" "chart actions"; grid-template-rows:auto auto auto auto 1fr; }
    .card-body > h2 { grid-area:head; }
    .card-body > .change { grid-area:change; }
    .card-body > .rationale { grid-area:why; }
    .card-body > svg.chart { grid-area:chart; align-self:start; }
    .card-body > dl { grid-area:facts; }
    .card-body > .actions { grid-area:actions; align-self:start; }
    /* a maintenance card has no chart: one column */
    .card.maintenance > .card-body { display:block; }
  }
  dd .line { display:block; }
  /* narrow screens: long asset paths and tags wrap rather than widen the page */
  .card, .card-body > * { min-width:0; }
  .card h2 { flex-wrap:wrap; }
  .card h2 > span:first-child, dd { overflow-wrap:anywhere; }
  .gate { flex-wrap:wrap; }
  .file { border-bottom:1px dotted var(--muted); }
  .card.ended { opacity:.75; }
  .card h2 { font-size:1.1rem; margin:0 0 .3rem; font-weight:600; display:flex; gap:.8rem; align-items:baseline; }
  .card h2 .state { font-weight:400; color:var(--muted); font-size:.95rem; }
  .card h2 .expiry { margin-left:auto; font-weight:400; font-size:.95rem; }
  .change { font-size:1.6rem; font-variant-numeric:tabular-nums; margin:.2rem 0 .4rem; }
  .change .arrow { color:var(--muted); padding:0 .4rem; }
  .rationale { margin:.2rem 0 .6rem; }
  dl { display:grid; grid-template-columns:max-content 1fr; gap:.15rem .8rem; margin:.4rem 0; font-size:.95rem; }
  dt { color:var(--muted); }
  dd { margin:0; font-variant-numeric:tabular-nums; }
  .violations { margin:0; padding:.2rem .4rem .2rem 1.4rem; border:1px solid var(--bad); color:var(--bad); }
  .change.window { font-size:1.25rem; }
  .alternatives { margin:0; padding-left:1.2rem; }
  svg.chart { width:100%; height:auto; max-width:640px; display:block; margin:.4rem 0; background:#fff; border:1px solid var(--line); }
  .actions { display:flex; gap:.8rem; margin-top:.6rem; }
  .empty { color:var(--muted); padding:1rem 0; }
  table { border-collapse:collapse; width:100%; background:var(--card); font-size:.95rem; margin-bottom:1.5rem; }
  th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
  th { background:#dcdcdc; font-weight:600; }
  td.num { font-variant-numeric:tabular-nums; white-space:nowrap; }
  #history h2 { font-size:1.15rem; margin:.6rem 0 .2rem; }
  .chain { padding:.4rem .8rem; border:1px solid var(--line); background:var(--card); margin:.3rem 0 .6rem; }
  form.login { max-width:24rem; margin:3rem auto; background:var(--card); border:1px solid var(--line); padding:1.2rem 1.5rem; }
  form label { display:block; margin:.6rem 0 .2rem; }
  input[readonly] { background:#efefef; }
  input, textarea { font:inherit; width:100%; padding:.35rem .5rem; border:1px solid #888; border-radius:3px; background:#fff; color:var(--text); }
  textarea { min-height:4.5rem; }
  dialog { border:2px solid #555; padding:1.2rem 1.5rem; max-width:36rem; width:92vw; background:var(--card); color:var(--text); }
  dialog::backdrop { background:rgba(40,40,40,.45); }
  dialog h2 { margin-top:0; font-size:1.2rem; }
  .form-actions { display:flex; gap:.8rem; justify-content:flex-end; margin-top:1rem; }
  [role=alert]:empty { display:none; }
  [role=alert] { margin-top:.6rem; }
  [hidden] { display:none !important; }
</style>
</head>
<body>
<header class="top">
  <h1>TwinLoop approvals</h1>
  <span class="who" id="who"></span>
  <button type="button" id="logout" hidden>Log out</button>
</header>

<form class="login" id="login" hidden aria-labelledby="login-title">
  <h2 id="login-title">Log in</h2>
  <p class="muted">Use your Node-RED login. Decisions are signed under your own name.</p>
  <label for="login-user">Username</label>
  <input id="login-user" name="username" autocomplete="username" required>
  <label for="login-password">Password</label>
  <input id="login-password" name="password" type="password" autocomplete="current-password" required>
  <div class="form-actions"><button type="submit" class="primary">Log in</button></div>
  <div role="alert" id="login-error" class="bad"></div>
</form>

<div id="app" hidden>
  <div role="tablist" aria-label="Views">
    <button type="button" role="tab" id="tab-pending" aria-controls="panel-pending" aria-selected="true">Pending</button>
    <button type="button" role="tab" id="tab-history" aria-controls="panel-history" aria-selected="false">History</button>
  </div>
  <main>
    <div id="notice" class="banner" role="status" hidden></div>
    <section id="panel-pending" role="tabpanel" aria-labelledby="tab-pending">
      <div class="gates" id="gates" aria-label="Approval gates"></div>
      <div class="cards" id="proposals" aria-label="Proposals"></div>
      <p class="empty" id="no-proposals" hidden>No proposals waiting.</p>
      <h2 id="ended-title" class="muted" hidden>Recently ended</h2>
      <div class="cards" id="ended" aria-labelledby="ended-title"></div>
    </section>
    <section id="panel-history" role="tabpanel" aria-labelledby="tab-history" hidden>
      <div id="history"></div>
    </section>
  </main>
</div>

<dialog id="sign" aria-labelledby="sign-title">
  <form id="sign-form" method="dialog">
    <h2 id="sign-title"></h2>
    <p id="sign-summary"></p>
    <label for="sign-reason">Reason</label>
    <textarea id="sign-reason" maxlength="${MAX_REASON_CHARS}"></textarea>
    <div id="sign-meaning-row">
      <label for="sign-meaning">Meaning of the signature</label>
      <!-- prefilled with the standard meaning for the verdict; the signer may keep or edit it (recorded as signed) -->
      <input id="sign-meaning" maxlength="${MAX_MEANING_CHARS}">
    </div>
    <p class="muted" id="sign-as"></p>
    <label for="sign-password">Password</label>
    <input id="sign-password" type="password" autocomplete="current-password">
    <div role="alert" id="sign-error" class="bad"></div>
    <div class="form-actions">
      <button type="button" id="sign-cancel">Cancel</button>
      <button type="submit" id="sign-submit" class="primary"></button>
    </div>
  </form>
</dialog>

<script nonce="__NONCE__">
(function () {
  'use strict';
  // The admin root is wherever this page is served from: <root>twinloop/approvals.
  var ROOT = location.pathname.replace(/twinloop\/approvals\/?$/, '');
  var API = ROOT + 'twinloop/approvals/api/';
  // The editor keeps its token under 'auth-tokens' + its path with '/' → '-' (red.js settings.init).
  var EDITOR_KEY = 'auth-tokens' + ROOT.slice(0, -1).replace(/\//g, '-');
  var OWN_KEY = 'twinloop-approvals-token';
  var POLL_MS = 2000;
  var EXPIRING_MS = 120000;
  var MEANING = { approve: 'Approved: I authorise this setpoint change', reject: 'Rejected: I do not authorise this setpoint change' };
  var MEANING_MAINTENANCE = { approve: 'Approved: I authorise this maintenance window', reject: 'Rejected: I do not authorise this maintenance window' };

  var S = { token: null, me: null, gates: [], clockOffsetMs: 0, tab: 'pending', cards: {}, historyAt: 0, sign: null, timer: null };
  function $(id) { return document.getElementById(id); }

  /** Build an element; text only via textContent. */
  function el(tag, props, children) {
    var e = document.createElement(tag);
    if (props) for (var k in props) {
      if (k === 'text') e.textContent = props[k];
      else if (k === 'className') e.className = props[k];
      else if (k === 'onclick') e.addEventListener('click', props[k]);
      else if (props[k] !== undefined && props[k] !== null && props[k] !== false) e.setAttribute(k, props[k] === true ? '' : String(props[k]));
    }
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  /** Drop trailing zeros ("5.00" → "5", "0.4200" → "0.42"); a true minus sign. */
  function plain(s) {
    if (s.indexOf('e') < 0 && s.indexOf('.') >= 0) s = s.replace(/0+$/, '').replace(/\.$/, '');
    return s === '-0' ? '0' : s.replace(/^-/, '−');
  }
  /** A value as set or configured (setpoints, limits, steps): the precision it has, no padding. */
  function fmt(v) {
    if (typeof v !== 'number' || !isFinite(v)) return '–';
    return plain(String(Number(v.toPrecision(6))));
  }
  /**
   * An estimate (model output, KPI) to a readable resolution. Zeros the rounding produced are kept
   * (0.2498 → "0.2500": four digits, like its neighbours); a value that simply has fewer digits is
   * shown as it is (0.42 → "0.42").
   */
  function est(v) {
    if (typeof v !== 'number' || !isFinite(v)) return '–';
    var a = Math.abs(v);
    var s = a >= 1000 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(4);
    return exact(s, v) ? plain(s) : s.replace(/^-/, '−');
  }
  /** Fit statistics: a few significant digits are all they carry. */
  function sig(v, digits) {
    if (typeof v !== 'number' || !isFinite(v)) return '–';
    var s = v === 0 ? '0' : v.toPrecision(digits);
    return exact(s, v) ? plain(s) : s.replace(/^-/, '−');
  }
  function exact(s, v) { return Math.abs(Number(s) - v) <= 1e-9 * Math.max(1, Math.abs(v)); }
  /** Numbers of one interval to the same decimals: two significant digits of its width. */
  function byWidth(width) {
    if (!(width > 0) || !isFinite(width)) return est;
    var decimals = Math.max(0, Math.min(12, 1 - Math.floor(Math.log10(width))));
    return function (v) {
      if (typeof v !== 'number' || !isFinite(v)) return '–';
      var s = v.toFixed(decimals);
      return (Number(s) === 0 ? s.replace(/^-/, '') : s).replace(/^-/, '−');
    };
  }
  function unit(u) { return u ? ' ' + u : ''; }
  function signed(v, f) { return (v > 0 ? '+' : v < 0 ? '−' : '±') + (f || fmt)(Math.abs(v)); }
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  function ymd(d) { return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()); }
  /** 24-hour local time (the browser's zone is the plant's); the date only when it is not today. */
  function when(ms) {
    var d = new Date(ms);
    var time = pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
    return ymd(d) === ymd(new Date(now())) ? time : ymd(d) + ' ' + time;
  }
  /** The printed name with the login, e.g. "Dana Reyes (shift supervisor) — login supervisor". */
  function person(printedName, user) {
    if (!user) return printedName || '';
    return printedName && printedName !== user ? printedName + ' — login ' + user : 'login ' + user;
  }
  function baseName(path) { return String(path).split(/[\\/]/).pop(); }
  function left(ms) {
    if (ms <= 0) return 'expired';
    var s = Math.floor(ms / 1000), m = Math.floor(s / 60), h = Math.floor(m / 60);
    return (h ? h + ' h ' + (m % 60) + ' min' : m ? m + ' min ' + (s % 60) + ' s' : s + ' s') + ' left';
  }
  function now() { return Date.now() + S.clockOffsetMs; }

  // ---- maintenance windows: the plant's local time, money, durations ---------------------------
  /** Date, 24-hour time and UTC offset of an instant in the plant's IANA zone (not the browser's). */
  function zoned(ms, zone) {
    var parts = {};
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'shortOffset' })
        .formatToParts(new Date(ms)).forEach(function (x) { parts[x.type] = x.value; });
    } catch (e) { return { date: new Date(ms).toISOString().slice(0, 10), time: new Date(ms).toISOString().slice(11, 16), offset: 'UTC' }; }
    return { date: parts.weekday + ' ' + parts.year + '-' + parts.month + '-' + parts.day, time: parts.hour + ':' + parts.minute, offset: parts.timeZoneName };
  }
  /** "Sat 2026-12-05 06:00 – 10:00 Europe/Berlin (GMT+1)"; the end's date and offset only when they differ. */
  function windowText(w) {
    var a = zoned(w.startMs, w.timeZone), b = zoned(w.endMs, w.timeZone);
    var end = (b.date !== a.date ? b.date + ' ' : '') + b.time + (b.offset !== a.offset ? ' (' + b.offset + ')' : '');
    return a.date + ' ' + a.time + ' – ' + end + ' ' + w.timeZone + ' (' + a.offset + ')';
  }
  ${EUR_CLIENT_JS}
  // a probability for people: below 0.1 % the digits mean nothing to a supervisor
  function pct(p) { return typeof p === 'number' && isFinite(p) ? (p < 0.001 ? '<0.1 %' : sig(100 * p, 2) + ' %') : '–'; }
  function span(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '–';
    var h = ms / 3600000;
    return Math.abs(h) >= 48 ? sig(h / 24, 3) + ' d' : sig(h, 3) + ' h';
  }
  /** Until when a proposal can be decided: its expiry, or a maintenance window's start if sooner. */
  function deadline(v) { return v.kind === 'maintenance' ? Math.min(v.proposal.expiresTsMs, v.proposal.window.startMs) : v.proposal.expiresTsMs; }

  // ---- talking to Node-RED ------------------------------------------------------------------
  function call(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (S.token) headers.Authorization = 'Bearer ' + S.token;
    if (body) headers['Content-Type'] = 'application/json';
    // a hung request must not stop the polling for good (a control-room screen runs for days)
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, 15000);
    return fetch(API + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store', signal: abort.signal })
      .finally(function () { clearTimeout(timer); })
      .then(function (r) {
        return r.text().then(function (t) { var j = null; try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; } return { status: r.status, body: j }; });
      });
  }
${LOGIN_CLIENT_JS}
  function enter(token) {
    S.token = token;
    call('GET', 'me').then(function (r) {
      if (r.status === 401) { sessionStorage.removeItem(OWN_KEY); return showLogin(token ? 'Your session has ended. Log in again.' : ''); }
      if (r.status === 403) { $('logout').hidden = false; return showLogin((r.body && r.body.error) || 'No access to approvals.'); }
      if (r.status !== 200) return notice('The approvals API answered ' + r.status + '.', true);
      S.me = r.body;
      $('login').hidden = true; $('app').hidden = false; $('logout').hidden = !S.adminAuth;
      $('who').textContent = S.me.username ? person(S.me.printedName, S.me.username) + (S.me.canApprove ? '' : ' · read only') : 'not logged in';
      if (!S.me.adminAuth) notice('Approvals need Node-RED adminAuth (logins). Without it every decision is refused: configure adminAuth in settings.js.', true);
      else if (!S.me.canApprove) notice('Read only: you can look, but deciding needs the permission twinloop.approve.', false);
      else notice('', false);
      startPolling();
    });
  }

  function notice(text, abnormal) {
    var n = $('notice');
    n.textContent = text; n.hidden = !text; n.className = 'banner' + (abnormal ? ' bad' : '');
  }

  // ---- polling: every 2 s while the page is visible -------------------------------------------
  function startPolling() { stopPolling(); refresh(); S.timer = setInterval(function () { if (!document.hidden) refresh(); else tickClocks(); }, POLL_MS); }
  function stopPolling() { if (S.timer) clearInterval(S.timer); S.timer = null; }
  document.addEventListener('visibilitychange', function () { if (!document.hidden && S.timer) refresh(); });
  setInterval(tickClocks, 1000);

  var busy = false;
  function refresh() {
    if (busy) return;
    busy = true;
    var jobs = [call('GET', 'gates'), call('GET', 'proposals')];
    var wantHistory = S.tab === 'history' && Date.now() - S.historyAt > 5000;
    if (wantHistory) jobs.push(call('GET', 'history'));
    Promise.all(jobs).then(function (rs) {
      for (var i = 0; i < rs.length; i++) if (rs[i].status === 401) return showLogin('Your session has ended. Log in again.');
      if (rs[0].status === 200) renderGates(rs[0].body.gates);
      if (rs[1].status === 200) { S.clockOffsetMs = rs[1].body.nowMs - Date.now(); renderProposals(rs[1].body.proposals); }
      if (wantHistory && rs[2].status === 200) { S.historyAt = Date.now(); renderHistory(rs[2].body.ledgers); }
    }).catch(function () { notice('Lost contact with Node-RED. Retrying…', true); }).then(function () { busy = false; });
  }

  // ---- tabs ----------------------------------------------------------------------------------
  function selectTab(name) {
    S.tab = name;
    ['pending', 'history'].forEach(function (t) {
      $('tab-' + t).setAttribute('aria-selected', String(t === name));
      $('panel-' + t).hidden = t !== name;
    });
    if (name === 'history') { S.historyAt = 0; refresh(); }
  }
  $('tab-pending').addEventListener('click', function () { selectTab('pending'); });
  $('tab-history').addEventListener('click', function () { selectTab('history'); });

  // ---- gates and the auto-approval policy -------------------------------------------------------
  function renderGates(gates) {
    S.gates = gates;
    var box = $('gates');
    var key = JSON.stringify(gates.map(function (g) { return [g.id, g.name, g.autoApproval, g.twoPersonAboveStep, g.twoPersonAboveEur, g.alarm]; })) + (S.me && S.me.canApprove);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.textContent = '';
    if (!gates.length) box.appendChild(el('p', { className: 'muted', text: 'No approval gate is deployed.' }));
    gates.forEach(function (g) {
      // a gate that could not start on its ledger: it refuses to act; say why and what to do
      if (g.alarm) {
        box.appendChild(el('div', { className: 'banner bad gate-alarm', role: 'alert', 'aria-label': 'Alarm: gate ' + g.name }, [
          el('strong', { text: 'Gate ' + g.name + ' refuses to act: its ledger cannot be trusted.' }),
          el('p', { text: g.alarm.reason }),
          el('p', { text: 'What to do: ' + g.alarm.remedy }),
        ]));
        return;
      }
      if (g.kind === 'maintenance') {
        box.appendChild(el('div', { className: 'gate', role: 'group', 'aria-label': 'Gate ' + g.name }, [
          el('strong', { text: g.name }),
          el('span', { className: 'muted', text: g.asset + ' / maintenance windows' }),
          el('span', { text: g.twoPersonAboveEur === null ? 'one approver' : 'two approvers above ' + eur(g.twoPersonAboveEur) }),
        ]));
        return;
      }
      var on = !!(g.autoApproval && g.autoApproval.enabled);
      // a policy the flow did not configure (no band) cannot be switched on from here
      var configured = !!(g.autoApproval && g.autoApproval.configured);
      var sw = configured ? el('button', { type: 'button', role: 'switch', 'aria-checked': String(on), 'aria-label': 'Auto-approval for ' + g.name, disabled: !(S.me && S.me.canApprove),
        text: on ? 'On' : 'Off', onclick: function () { openSign({ kind: 'policy', gate: g, enabled: !on }); } }) : null;
      box.appendChild(el('div', { className: 'gate', role: 'group', 'aria-label': 'Gate ' + g.name }, [
        el('strong', { text: g.name }),
        el('span', { className: 'muted', text: g.asset + ' / ' + g.tag }),
        el('span', { text: g.twoPersonAboveStep === null ? 'one approver' : 'two approvers above ' + fmt(g.twoPersonAboveStep) + unit(g.unit) }),
        el('span', { text: configured ? 'Auto-approval (up to ' + fmt(g.autoApproval.maxStep) + unit(g.unit) + '):' : 'Auto-approval: not configured' }),
        sw,
      ]));
    });
  }

  // ---- proposals ------------------------------------------------------------------------------
  function renderProposals(views) {
    var seen = {};
    var pending = views.filter(function (v) { return v.state === 'pending'; });
    var ended = views.filter(function (v) { return v.state !== 'pending'; });
    pending.sort(function (a, b) { return deadline(a) - deadline(b); });
    ended.sort(function (a, b) { return b.proposal.createdTsMs - a.proposal.createdTsMs; });
    place($('proposals'), pending, seen);
    place($('ended'), ended, seen);
    for (var id in S.cards) if (!seen[id]) { S.cards[id].el.remove(); delete S.cards[id]; }
    $('no-proposals').hidden = pending.length > 0;
    $('ended-title').hidden = ended.length === 0;
    tickClocks();
  }

  /** Cards are rebuilt only when what they show changes, so a button keeps its focus between polls. */
  function place(container, views, seen) {
    views.forEach(function (v, i) {
      var id = v.gateId + '/' + v.proposal.id;
      seen[id] = true;
      var maintenance = v.kind === 'maintenance';
      var main = JSON.stringify(maintenance ? [v.state, v.reason, v.decisions, v.requiredApprovals, v.proposal, v.order, S.me && S.me.canApprove]
        : [v.state, v.reason, v.decisions, v.requiredApprovals, v.envelope.ok, v.envelope.violations, v.envelope.version, v.proposal, S.me && S.me.canApprove]);
      var trend = maintenance ? '' : JSON.stringify(v.trend);
      var c = S.cards[id];
      if (!c || c.main !== main) {
        var fresh = { el: maintenance ? maintenanceCard(v) : card(v), main: main, trend: trend };
        if (c) c.el.replaceWith(fresh.el);
        S.cards[id] = c = fresh;
      } else if (c.trend !== trend) {
        c.el.querySelector('svg.chart').replaceWith(chart(v));
        c.trend = trend;
      }
      if (container.children[i] !== c.el) container.insertBefore(c.el, container.children[i] || null);
    });
  }

  /**
   * A KPI's predicted value with its prediction interval (one sample), and beside it the confidence
   * interval of the mean change when the proposer gives it (what the move gains on average).
   */
  function effectDd(e, prefix) {
    var lines = [el('span', { className: 'line', text: prefix + est(e.currentKpi) + ' → ' + est(e.predictedKpi) + unit(e.kpiUnit) +
      ' (' + e.intervalPct + ' % interval ' + est(e.lowKpi) + ' – ' + est(e.highKpi) + ')' })];
    if (typeof e.changeLowKpi === 'number' && typeof e.changeHighKpi === 'number') {
      var f = byWidth(e.changeHighKpi - e.changeLowKpi);
      lines.push(el('span', { className: 'line', text: 'mean change ' + signed(e.predictedKpi - e.currentKpi, f) + unit(e.kpiUnit) +
        ' (' + e.intervalPct + ' % CI ' + f(e.changeLowKpi) + ' to ' + f(e.changeHighKpi) + ')' }));
    }
    return el('dd', {}, lines);
  }

  function card(v) {
    var p = v.proposal, e = p.predictedEffect, pending = v.state === 'pending';
    var label = p.asset + ' / ' + p.tag;
    var envelope = v.envelope.ok
      ? el('dd', { text: 'within the envelope (version ' + v.envelope.version + ')' })
      : el('dd', {}, [el('ul', { className: 'violations', 'aria-label': 'Envelope violations' }, v.envelope.violations.map(function (x) { return el('li', { text: x.code + ': ' + x.message }); }))]);
    var rows = [
      el('dt', { text: 'Predicted effect' }), effectDd(e, e.kpiTag + ': '),
    ];
    (e.others || []).forEach(function (o) {
      rows.push(el('dt', { text: o.kpiTag }), effectDd(o, ''));
    });
    rows.push(
      el('dt', { text: 'Model' }), el('dd', { text: p.fit.method + ', n = ' + p.fit.n + ', R² = ' + sig(p.fit.r2, 2) + ', RMSE ' + sig(p.fit.rmse, 2) + unit(e.kpiUnit) + '; setpoints seen ' + fmt(p.fitRange.setpointMin) + ' – ' + fmt(p.fitRange.setpointMax) + unit(p.unit) }),
      el('dt', { text: 'Envelope check' }), envelope);
    decisionRows(v, rows);
    return el('article', { className: 'card' + (pending ? '' : ' ended'), 'aria-label': 'Proposal ' + label, 'data-proposal-id': p.id }, [el('div', { className: 'card-body' }, [
      el('h2', {}, [el('span', { text: label }), el('span', { className: 'state', text: v.state }), pending ? el('span', { className: 'expiry', 'data-expires': p.expiresTsMs }) : null]),
      el('div', { className: 'change', 'aria-label': 'Change' }, [fmt(p.currentValue), el('span', { className: 'arrow', text: '→' }), el('strong', { text: fmt(p.proposedValue) }), unit(p.unit), el('span', { className: 'muted', text: '  (' + signed(p.proposedValue - p.currentValue) + ')' })]),
      el('p', { className: 'rationale', text: p.rationale }),
      chart(v),
      el('dl', {}, rows),
      decideButtons(v),
    ])]);
  }

  /** Approvals so far, who decided, input quality and why it ended: the same on both kinds of card. */
  function decisionRows(v, rows) {
    var approvals = v.decisions.filter(function (d) { return d.verdict === 'approve'; });
    rows.push(el('dt', { text: 'Approvals' }), el('dd', { text: approvals.length + ' of ' + v.requiredApprovals + ' needed' + (v.requiredApprovals > 1 ? ' (two-person rule)' : '') }));
    v.decisions.forEach(function (d) {
      rows.push(el('dt', { text: d.verdict === 'approve' ? 'Approved by' : 'Rejected by' }), el('dd', { text: person(d.printedName, d.user) + ', ' + when(d.tsMs) + ': ' + d.reason }));
    });
    var p = v.proposal;
    if (p.quality !== 'good') rows.push(el('dt', { text: 'Inputs' }), el('dd', {}, [el('span', { className: 'warn', text: p.quality + (p.qualityReason ? ': ' + p.qualityReason : '') })]));
    if (v.reason) rows.push(el('dt', { text: 'Reason' }), el('dd', { text: v.reason }));
    return rows;
  }

  function decideButtons(v) {
    if (v.state !== 'pending' || !S.me || !S.me.canApprove) return null;
    var mine = v.decisions.some(function (d) { return d.user === S.me.username; });
    return el('div', { className: 'actions' }, [
      el('button', { type: 'button', className: 'primary', disabled: mine || undefined, title: mine ? 'You have already decided on this proposal' : undefined, text: 'Approve', onclick: function () { openSign({ kind: 'decide', verdict: 'approve', view: v }); } }),
      el('button', { type: 'button', disabled: mine || undefined, text: 'Reject', onclick: function () { openSign({ kind: 'decide', verdict: 'reject', view: v }); } }),
    ]);
  }

  /** A maintenance window: when (plant time), what it costs and why, the risk it rests on, the runners-up. */
  function maintenanceCard(v) {
    var p = v.proposal, w = p.window, c = w.costParts, r = p.rul, pending = v.state === 'pending';
    var rows = [
      el('dt', { text: 'Asset' }), el('dd', { text: p.asset }),
      el('dt', { text: 'Expected cost' }), el('dd', {}, [
        el('span', { className: 'line', text: eur(w.expectedCostEur) }),
        el('span', { className: 'line muted', text: 'job ' + eur(c.jobEur) + ' + downtime ' + eur(c.downtimeEur) + ' + expected failure ' + eur(c.expectedFailureEur) + ' + energy ' + eur(c.energyEur) }),
      ]),
      el('dt', { text: 'P(failure before window)' }), el('dd', { text: pct(w.failureProbability) }),
      el('dt', { text: 'Remaining useful life' }), el('dd', { text: 'P10 ' + span(r.rulP10Ms) + ' · P50 ' + span(r.rulMs) + ' · P90 ' + span(r.rulP90Ms) + ' (health index ' + sig(r.healthIndex, 2) + ', as of ' + when(r.tsMs) + ')' }),
      el('dt', { text: 'Production lost' }), el('dd', { text: fmt(w.productionLossMinutes) + ' min' }),
      el('dt', { text: 'Why this window' }), el('dd', { text: w.why }),
    ];
    if (p.alternatives.length) {
      rows.push(el('dt', { text: 'Alternatives' }), el('dd', {}, [el('ul', { className: 'alternatives', 'aria-label': 'Alternative windows' }, p.alternatives.map(function (a) {
        return el('li', { text: '#' + a.rank + ' ' + windowText(a) + ': ' + eur(a.expectedCostEur) + ', P(failure before) ' + pct(a.failureProbability) + (a.why ? ' — ' + a.why : '') });
      }))]));
    }
    decisionRows(v, rows);
    if (v.order) rows.push(el('dt', { text: 'Order' }), el('dd', { text: 'issued ' + when(v.order.issuedTsMs) + ', signed, id ' + v.order.id }));
    return el('article', { className: 'card maintenance' + (pending ? '' : ' ended'), 'aria-label': 'Maintenance proposal ' + p.asset + ': ' + p.job, 'data-proposal-id': p.id }, [el('div', { className: 'card-body' }, [
      el('h2', {}, [el('span', { text: 'Maintenance: ' + p.job }), el('span', { className: 'state', text: v.state }), pending ? el('span', { className: 'expiry', 'data-expires': deadline(v) }) : null]),
      el('div', { className: 'change window', 'aria-label': 'Window' }, [el('strong', { text: windowText(w) })]),
      el('p', { className: 'rationale', text: p.rationale }),
      el('dl', {}, rows),
      decideButtons(v),
    ])]);
  }

  function tickClocks() {
    var t = now();
    document.querySelectorAll('[data-expires]').forEach(function (x) {
      var ms = Number(x.getAttribute('data-expires')) - t;
      x.textContent = left(ms);
      x.className = 'expiry' + (ms < EXPIRING_MS ? ' warn' : '');
    });
  }

  /**
   * Recent history at a glance: the setpoint (top) and the KPI (bottom) over time; at the right
   * edge the proposed setpoint and the predicted KPI with its interval band.
   */
  function chart(v) {
    var p = v.proposal, e = p.predictedEffect, W = 480, H = 170, L = 56, R = 390, END = 470;
    var sp = v.trend.setpoint, kpi = v.trend.kpi;
    var times = sp.concat(kpi).map(function (x) { return x.tsMs; });
    var t1 = times.length ? Math.max.apply(null, times) : now();
    var t0 = times.length ? Math.min.apply(null, times) : t1 - 600000;
    if (t1 - t0 < 60000) t0 = t1 - 60000;
    function x(t) { return L + (t - t0) / (t1 - t0) * (R - L); }
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img',
      'aria-label': 'Last ' + Math.round((t1 - t0) / 60000) + ' min of ' + p.tag + ' and ' + e.kpiTag + '; proposed ' + fmt(p.proposedValue) + unit(p.unit) + ', predicted ' + e.kpiTag + ' ' + est(e.predictedKpi) + ' (' + est(e.lowKpi) + ' – ' + est(e.highKpi) + ')' });
    function panel(top, bottom, points, values, name, step, f) {
      var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
      if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
      var pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
      function y(val) { return bottom - (val - lo) / (hi - lo) * (bottom - top); }
      s.appendChild(svg('rect', { x: L, y: top, width: END - L, height: bottom - top, fill: 'none', stroke: '#d0d0d0' }));
      s.appendChild(svg('line', { x1: R, y1: top, x2: R, y2: bottom, stroke: '#b0b0b0', 'stroke-dasharray': '3 3' }));
      [[hi - pad, 'hi'], [lo + pad, 'lo']].forEach(function (a) {
        var t = svg('text', { x: L - 4, y: y(a[0]) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' }); t.textContent = f(a[0]); s.appendChild(t);
      });
      if (points.length) {
        var d = '';
        points.forEach(function (pt, i) {
          var px = x(pt.tsMs).toFixed(1), py = y(pt.value).toFixed(1);
          if (i === 0) d = 'M' + px + ' ' + py;
          else d += step ? ' H' + px + ' V' + py : ' L' + px + ' ' + py;
        });
        if (step) d += ' H' + R;
        s.appendChild(svg('path', { d: d, fill: 'none', stroke: '#333', 'stroke-width': 1.6 }));
      }
      // the series name over the line, with a halo so the line does not strike through it
      var n = svg('text', { x: L + 4, y: top + 12, 'font-size': 11, fill: '#444', stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke' }); n.textContent = name; s.appendChild(n);
      return y;
    }
    var ys = panel(8, 72, sp, sp.map(function (q) { return q.value; }).concat([p.currentValue, p.proposedValue]), p.tag + unit(p.unit), true, est);
    s.appendChild(svg('path', { d: 'M' + R + ' ' + ys(p.currentValue).toFixed(1) + ' V' + ys(p.proposedValue).toFixed(1) + ' H' + END, fill: 'none', stroke: '#111', 'stroke-width': 2, 'stroke-dasharray': '6 3' }));
    var yk = panel(88, 152, kpi, kpi.map(function (q) { return q.value; }).concat([e.currentKpi, e.lowKpi, e.highKpi]), e.kpiTag + unit(e.kpiUnit), false, est);
    s.appendChild(svg('rect', { x: R, y: yk(e.highKpi).toFixed(1), width: END - R, height: Math.max(1, yk(e.lowKpi) - yk(e.highKpi)).toFixed(1), fill: '#c8c8c8', 'fill-opacity': 0.7 }));
    s.appendChild(svg('line', { x1: R, y1: yk(e.predictedKpi), x2: END, y2: yk(e.predictedKpi), stroke: '#111', 'stroke-width': 2 }));
    s.appendChild(svg('circle', { cx: R, cy: yk(e.currentKpi), r: 3, fill: '#555' }));
    var tl = svg('text', { x: L, y: H - 2, 'font-size': 11, fill: '#555' }); tl.textContent = '−' + Math.round((t1 - t0) / 60000) + ' min'; s.appendChild(tl);
    var tn = svg('text', { x: R, y: H - 2, 'font-size': 11, fill: '#555', 'text-anchor': 'middle' }); tn.textContent = 'now'; s.appendChild(tn);
    var tp = svg('text', { x: END, y: H - 2, 'font-size': 11, fill: '#555', 'text-anchor': 'end' }); tp.textContent = 'proposed'; s.appendChild(tp);
    return s;
  }

  // ---- the signature dialog ----------------------------------------------------------------------
  function openSign(what) {
    S.sign = what;
    var d = $('sign');
    $('sign-error').textContent = '';
    $('sign-reason').value = '';
    $('sign-password').value = '';
    $('sign-as').textContent = 'Signed as ' + person(S.me.printedName, S.me.username);
    if (what.kind === 'decide') {
      var p = what.view.proposal;
      var approve = what.verdict === 'approve';
      var maintenance = what.view.kind === 'maintenance';
      $('sign-title').textContent = (approve ? 'Approve' : 'Reject') + (maintenance ? ' maintenance window' : ' setpoint change');
      $('sign-summary').textContent = maintenance ? p.asset + ': ' + p.job + ', ' + windowText(p.window) + ', expected cost ' + eur(p.window.expectedCostEur)
        : p.asset + ' / ' + p.tag + ': ' + fmt(p.currentValue) + ' → ' + fmt(p.proposedValue) + unit(p.unit);
      $('sign-meaning-row').hidden = false;
      $('sign-meaning').value = (maintenance ? MEANING_MAINTENANCE : MEANING)[what.verdict];
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
  $('sign-cancel').addEventListener('click', function () { $('sign').close(); S.sign = null; });
  $('sign-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var w = S.sign;
    if (!w) return;
    var reason = $('sign-reason').value.trim();
    if (!reason) { $('sign-error').textContent = 'Give a reason.'; $('sign-reason').focus(); return; }
    var meaning = $('sign-meaning').value.trim();
    if (w.kind === 'decide' && !meaning) { $('sign-error').textContent = 'Give the meaning of your signature.'; $('sign-meaning').focus(); return; }
    var body, path;
    if (w.kind === 'decide') {
      path = 'decide';
      body = { gateId: w.view.gateId, proposalId: w.view.proposal.id, verdict: w.verdict, reason: reason, meaning: meaning, password: $('sign-password').value };
    } else {
      path = 'auto-approval';
      body = { gateId: w.gate.id, enabled: w.enabled, reason: reason, password: $('sign-password').value };
    }
    $('sign-submit').disabled = true;
    call('POST', path, body).then(function (r) {
      $('sign-password').value = '';
      if (r.status === 200) {
        $('sign').close(); S.sign = null;
        S.historyAt = 0; refresh();
        return;
      }
      if (r.status === 401 && !(r.body && r.body.error)) { $('sign').close(); return showLogin('Your session has ended. Log in again.'); }
      $('sign-error').textContent = (r.body && r.body.error) || ('Refused (' + r.status + ').');
      $('sign-password').focus();
    }).catch(function () { $('sign-error').textContent = 'Node-RED did not answer: the decision may not be recorded; check the history.'; })
      .then(function () { $('sign-submit').disabled = false; });
  });

  // ---- history -------------------------------------------------------------------------------
  function renderHistory(ledgers) {
    var box = $('history');
    box.textContent = '';
    if (!ledgers.length) box.appendChild(el('p', { className: 'muted', text: 'No approval gate is deployed.' }));
    ledgers.forEach(function (l) {
      var v = l.verification, chain;
      var name = l.gates.map(function (g) { return g.name; }).join(', ');
      // the file name; the full path on hover (a long absolute path pushed the status off the line)
      var file = el('span', { className: 'file', title: l.ledgerLocation, text: baseName(l.ledgerLocation) });
      if (v.ok === true) chain = el('p', { className: 'chain', role: 'status' }, ['Ledger chain verified: ' + v.records + ' records intact (', file, ')']);
      else if (v.ok === false) chain = el('p', { className: 'chain bad', role: 'status' }, ['Ledger chain BROKEN' + (v.firstBad ? ' at record ' + v.firstBad.seq + ' (line ' + v.firstBad.line + '): ' + v.firstBad.reason : '') + ' (', file, ')']);
      else chain = el('p', { className: 'chain', role: 'status', title: l.ledgerLocation, text: 'Ledger chain not verified: ' + v.reason });
      var rows = l.records.map(function (r) {
        var d = describe(r, l.writers || {});
        return el('tr', {}, [el('td', { className: 'num', text: when(r.tsMs) }), el('td', { text: d.event }), el('td', { text: r.asset ? r.asset + ' / ' + (r.tag || 'maintenance') : '' }), el('td', { text: d.by }), el('td', { text: d.details }), el('td', { className: 'num', text: String(r.seq) })]);
      });
      box.appendChild(el('section', { 'aria-label': 'History of ' + name }, [
        el('h2', { text: name }),
        chain,
        l.error ? el('p', { className: 'chain bad', text: 'The ledger cannot be read: ' + l.error }) : null,
        l.total > l.records.length ? el('p', { className: 'muted', text: 'Newest ' + l.records.length + ' of ' + l.total + ' records.' }) : null,
        el('table', { 'aria-label': 'Ledger of ' + name }, [
          el('thead', {}, [el('tr', {}, ['Time', 'Event', 'Setpoint / asset', 'By', 'Details', 'Seq'].map(function (h) { return el('th', { scope: 'col', text: h }); }))]),
          el('tbody', {}, rows),
        ]),
      ]));
    });
  }

  function describe(r, writers) {
    var d = r.data || {};
    var writer = d.writer ? writers[d.writer] || 'writer ' + d.writer : 'writer';
    switch (r.type) {
      case 'decision': return { event: 'decision: ' + d.verdict, by: person(d.printedName, d.user), details: (d.meaning || '') + (d.reason ? ' — ' + d.reason : '') };
      case 'proposal':
        if (d.kind === 'maintenance') return { event: 'maintenance proposal', by: 'twin', details: d.job + ', ' + windowText(d.window) + ', expected cost ' + eur(d.window.expectedCostEur) };
        return { event: 'proposal', by: 'twin', details: fmt(d.currentValue) + ' → ' + fmt(d.proposedValue) + unit(d.unit) + (d.rationale ? ': ' + d.rationale : '') };
      case 'order': return { event: 'maintenance order', by: 'gate', details: d.job + ', ' + windowText(d) + ', approved by ' + (d.approvedBy || []).join(', ') + ', id ' + d.id };
      case 'command': return { event: 'command', by: 'gate', details: 'write ' + fmt(d.value) + unit(d.unit) + ' (step ' + d.step + '/' + d.steps + ')' };
      case 'write': return { event: 'write: ' + (d.outcome || ''), by: writer, details: fmt(d.value) + (d.reason ? ' — ' + d.reason : '') };
      // the writer's write-ahead record: durable before the plant could take the value
      case 'write-intent': return { event: 'write intent', by: writer, details: 'about to write ' + fmt(d.value) + (typeof d.presentValue === 'number' ? ' (present ' + fmt(d.presentValue) + ')' : '') + (d.steps ? ' (step ' + d.step + '/' + d.steps + ')' : '') };
      case 'readback': return { event: 'read-back', by: writer, details: (d.readBackOk ? 'ok: ' : 'MISMATCH: ') + fmt(d.readBackValue) };
      case 'policy': return { event: 'policy', by: d.user || 'policy', details: (d.enabled === undefined ? '' : 'auto-approval ' + (d.enabled ? 'on' : 'off')) + (d.reason ? ' — ' + d.reason : '') };
      default: return { event: r.type, by: d.user || (d.writer ? writer : ''), details: d.reason || d.message || '' };
    }
  }

  start();
})();
</script>
</body>
</html>
`;
