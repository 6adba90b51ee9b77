/**
 * The supervisors' page: one self-contained HTML document (inline CSS and JS, no CDN, nothing to
 * fetch but the JSON API). This is its shell (markup and style); its script is web/client/approvals.ts,
 * inlined from its bundle (client-script.ts). Control-room rules: greys throughout; colour only for
 * what is abnormal (a failing envelope check, an expiring proposal, uncertain inputs, a broken ledger chain).
 */
import { MAX_MEANING_CHARS, MAX_REASON_CHARS } from '../../runtime/control/gate-registry.js';
import { pageWithScript } from './client-script.js';

export function approvalsPageHtml(nonce: string): string {
  return pageWithScript(PAGE, 'approvals', nonce);
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
    <div id="takeover" class="banner bad" role="status" hidden></div>
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

<script nonce="__NONCE__">__SCRIPT__</script>
</body>
</html>
`;
