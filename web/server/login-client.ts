/**
 * The browser side of logging in to a TwinLoop page (the approvals page, the overview) with
 * Node-RED's own /auth/token: reuse the editor's token or the page's own (sessionStorage), else show
 * the login form; log out revokes the token. Inlined into each page's script, which must define
 * ROOT, OWN_KEY, EDITOR_KEY, S ({ token, adminAuth, loginType }), $(id), notice(text, abnormal),
 * stopPolling() and enter(token).
 */
export const LOGIN_CLIENT_JS = String.raw`
  function editorToken() {
    try { var t = JSON.parse(localStorage.getItem(EDITOR_KEY) || 'null'); return t && t.access_token ? t.access_token : null; } catch (e) { return null; }
  }

  function start() {
    fetch(ROOT + 'auth/login', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (login) {
      S.adminAuth = !!(login && login.type);
      S.loginType = login && login.type;
      if (!S.adminAuth) return enter(null);
      var t = sessionStorage.getItem(OWN_KEY) || editorToken();
      if (t) return enter(t);
      showLogin();
    }).catch(function () { notice('Cannot reach Node-RED. Retrying…', true); setTimeout(start, 5000); });
  }

  function showLogin(msg) {
    stopPolling();
    S.token = null;
    $('app').hidden = true; $('logout').hidden = true; $('who').textContent = '';
    $('login').hidden = false;
    $('login-error').textContent = S.loginType === 'strategy' ? 'Log in to the Node-RED editor first, then reload this page.' : (msg || '');
    $('login-user').focus();
  }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    $('login-error').textContent = '';
    // scope '' = the user's own permissions (what the editor asks for); '*' would fail for anyone but an admin.
    var form = new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username: $('login-user').value, password: $('login-password').value });
    fetch(ROOT + 'auth/token', { method: 'POST', body: form }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (r) {
      $('login-password').value = '';
      if (!r.ok || !r.body.access_token) { $('login-error').textContent = (r.body && r.body.error_description) || 'Login failed: wrong username or password.'; return; }
      sessionStorage.setItem(OWN_KEY, r.body.access_token);
      enter(r.body.access_token);
    }).catch(function () { $('login-error').textContent = 'Login failed: Node-RED did not answer.'; });
  });

  $('logout').addEventListener('click', function () {
    var t = S.token;
    sessionStorage.removeItem(OWN_KEY);
    if (t && t === editorToken()) localStorage.removeItem(EDITOR_KEY);
    if (t) fetch(ROOT + 'auth/revoke', { method: 'POST', headers: { Authorization: 'Bearer ' + t, 'Content-Type': 'application/json' }, body: JSON.stringify({ token: t }) }).catch(function () {});
    showLogin();
  });
`;
