/**
 * The live overview page: one self-contained HTML document (inline CSS and JS, no CDN: it works on
 * a closed plant network). This is its shell (markup and style); the script that draws the charts is
 * web/client/overview.ts, inlined from its bundle (client-script.ts). Control-room rules as on the
 * approvals page: greys throughout, colour only for what is abnormal (drift, alerts, uncertain data)
 * and for the chosen window.
 */
import { pageWithScript } from './client-script.js';

export function overviewPageHtml(nonce: string): string {
  return pageWithScript(PAGE, 'overview', nonce);
}

const PAGE = String.raw`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TwinLoop overview</title>
<style nonce="__NONCE__">
  :root { --bg:#e9e9e9; --card:#f8f8f8; --line:#c4c4c4; --text:#1d1d1d; --muted:#5c5c5c;
          --bad:#a4001d; --bad-bg:#fbe3e6; --warn:#6b4a00; --warn-bg:#fff0c2; --est:#2a5db0; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--text); font:16px/1.4 system-ui, "DejaVu Sans", Arial, sans-serif; }
  header.top { display:flex; align-items:center; gap:1.2rem; padding:.5rem 1.2rem; background:#d6d6d6; border-bottom:1px solid var(--line); flex-wrap:wrap; }
  header.top h1 { font-size:1.3rem; margin:0; font-weight:600; }
  header.top .who { margin-left:auto; color:var(--muted); }
  a { color:#1d3f7a; }
  button, select { font:inherit; padding:.3rem .8rem; border:1px solid #777; border-radius:4px; background:#fafafa; color:var(--text); }
  button { cursor:pointer; }
  main { padding:.8rem 1.2rem 2rem; }
  h2 { font-size:1.15rem; margin:1.2rem 0 .5rem; font-weight:600; }
  h3 { font-size:1rem; margin:.6rem 0 .4rem; font-weight:600; color:var(--muted); overflow-wrap:anywhere; }
  .banner { padding:.5rem 1rem; margin-bottom:.8rem; border:1px solid var(--line); background:var(--card); }
  .banner.bad { background:var(--bad-bg); border-color:var(--bad); color:var(--bad); }
  .grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(400px, 100%), 1fr)); gap:.8rem; }
  .wide { display:grid; grid-template-columns:repeat(auto-fit, minmax(min(560px, 100%), 1fr)); gap:.8rem; }
  figure { margin:0; background:var(--card); border:1px solid var(--line); padding:.5rem .7rem; min-width:0; }
  figcaption { font-weight:600; display:flex; gap:.6rem; align-items:baseline; flex-wrap:wrap; }
  figcaption .now { margin-left:auto; font-weight:400; font-variant-numeric:tabular-nums; }
  svg.chart { width:100%; height:auto; display:block; background:#fff; border:1px solid var(--line); margin-top:.3rem; }
  svg text { font:11px system-ui, "DejaVu Sans", Arial, sans-serif; fill:#444; }
  svg.wide text { font-size:14px; }
  svg text.win { fill:#222; }
  .zoombar { position:sticky; top:0; z-index:1; display:flex; gap:1rem; align-items:center; flex-wrap:wrap; padding:.35rem .8rem;
             margin-bottom:.4rem; background:var(--card); border:1px solid var(--line); font-variant-numeric:tabular-nums; }
  svg.chart[data-x0] { cursor:crosshair; user-select:none; }
  .readout { min-height:1.35em; font-size:.85rem; font-variant-numeric:tabular-nums; }
  .legend { font-size:.85rem; color:var(--muted); margin-top:.2rem; }
  .legend span { margin-right:1rem; white-space:nowrap; }
  .sw { display:inline-block; width:1.2rem; height:.6rem; vertical-align:middle; margin-right:.3rem; border:1px solid #999; }
  .sw-reading { background:#333; } .sw-estimate { background:#c9d6ea; border-color:#2a5db0; } .sw-drift { background:#a4001d; } .sw-range { background:#d6d6d6; }
  .alert { color:var(--bad); background:var(--bad-bg); padding:0 .3rem; border-radius:3px; font-weight:600; }
  .warn { color:var(--warn); background:var(--warn-bg); padding:0 .3rem; border-radius:3px; }
  .muted { color:var(--muted); }
  .empty { color:var(--muted); }
  ul.proposals { list-style:none; padding:0; margin:0; display:grid; gap:.4rem; }
  ul.proposals li { background:var(--card); border:1px solid var(--line); padding:.4rem .8rem; }
  ul.alarms { list-style:none; padding:0; margin:0; display:grid; gap:.4rem; }
  ul.alarms li { background:var(--card); border:1px solid var(--line); border-left:.4rem solid var(--line); padding:.4rem .8rem; }
  ul.alarms li.prio-high { border-left-color:var(--bad); } ul.alarms li.prio-medium { border-left-color:#c58a00; }
  ul.alarms li.unack .state { color:var(--bad); font-weight:600; }
  ul.alarms .prio { font-size:.8rem; font-weight:600; padding:0 .3rem; border:1px solid var(--line); border-radius:3px; }
  ul.alarms li.prio-high .prio { color:var(--bad); background:var(--bad-bg); border-color:var(--bad); }
  ul.alarms li.prio-medium .prio { color:var(--warn); background:var(--warn-bg); }
  ul.alarms .actions { display:flex; gap:.5rem; margin-top:.3rem; }
  form.alarm-form { display:flex; gap:.5rem; align-items:center; flex-wrap:wrap; margin-top:.4rem; }
  form.alarm-form input { width:auto; } form.alarm-form #shelve-amount { width:5rem; }
  form.alarm-form input[id$=reason] { min-width:18rem; flex:1; }
  [role=status]:empty { display:none; }
  form.login { max-width:24rem; margin:3rem auto; background:var(--card); border:1px solid var(--line); padding:1.2rem 1.5rem; }
  form label { display:block; margin:.6rem 0 .2rem; }
  input { font:inherit; width:100%; padding:.35rem .5rem; border:1px solid #888; border-radius:3px; background:#fff; color:var(--text); }
  .form-actions { display:flex; justify-content:flex-end; margin-top:1rem; }
  [role=alert]:empty { display:none; }
  [hidden] { display:none !important; }
</style>
</head>
<body>
<header class="top">
  <h1>TwinLoop overview</h1>
  <label id="pick-row" hidden>Overview <select id="pick"></select></label>
  <a id="approvals-link" href="#">Approvals page</a>
  <span class="who" id="who"></span>
  <button type="button" id="logout" hidden>Log out</button>
</header>

<form class="login" id="login" hidden aria-labelledby="login-title">
  <h2 id="login-title">Log in</h2>
  <p class="muted">Use your Node-RED login.</p>
  <label for="login-user">Username</label>
  <input id="login-user" name="username" autocomplete="username" required>
  <label for="login-password">Password</label>
  <input id="login-password" name="password" type="password" autocomplete="current-password" required>
  <div class="form-actions"><button type="submit">Log in</button></div>
  <div role="alert" id="login-error" class="alert"></div>
</form>

<main id="app" hidden>
  <div id="notice" class="banner" role="status" hidden></div>
  <div class="zoombar" id="zoombar" hidden>
    <span id="range"></span>
    <span class="muted">Point at a chart for its values; drag across one to zoom every chart.</span>
    <button type="button" id="unzoom" disabled>Reset zoom</button>
  </div>
  <section aria-labelledby="h-alarms">
    <h2 id="h-alarms">Alarms</h2>
    <p class="muted" id="alarm-rights"></p>
    <div role="status" id="alarm-result"></div>
    <div role="alert" id="alarm-error" class="alert"></div>
    <ul class="alarms" id="alarms" aria-labelledby="h-alarms"></ul>
    <p class="empty" id="no-alarms">No alarms.</p>
  </section>
  <section aria-labelledby="h-proposals">
    <h2 id="h-proposals">Pending proposals</h2>
    <ul class="proposals" id="proposals"></ul>
    <p class="empty" id="no-proposals">No proposals waiting.</p>
  </section>
  <section aria-labelledby="h-trends">
    <h2 id="h-trends">Readings and estimates</h2>
    <div id="trends"></div>
    <p class="empty" id="no-trends">No readings yet.</p>
  </section>
  <section aria-labelledby="h-maint">
    <h2 id="h-maint">Remaining useful life and maintenance windows</h2>
    <div id="maint" class="wide"></div>
    <p class="empty" id="no-maint">No RUL estimates or maintenance windows yet.</p>
  </section>
  <section aria-labelledby="h-energy">
    <h2 id="h-energy">Energy cost and demand</h2>
    <div id="energy" class="wide"></div>
    <p class="empty" id="no-energy">No energy costs yet.</p>
  </section>
</main>

<script nonce="__NONCE__">__SCRIPT__</script>
</body>
</html>
`;
