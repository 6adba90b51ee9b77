/**
 * Logging in to a TwinLoop page (the approvals page, the overview) with Node-RED's own /auth/token:
 * reuse the editor's token or the page's own (sessionStorage), else show the login form; log out
 * revokes the token. The page gives its admin root, its hooks and its state.
 */
import { $, input } from './dom.js';
import { readAnswer } from './answer.js';

export interface LoginState {
  token: string | null;
  adminAuth: boolean;
  loginType: string | null;
}

export interface LoginPage {
  /** The admin root the page is served under, ending in '/'. */
  root: string;
  /** sessionStorage key of the page's own token. */
  ownKey: string;
  state: LoginState;
  notice(text: string, abnormal: boolean): void;
  stopPolling(): void;
  enter(token: string | null): void;
}

/** The editor keeps its token under 'auth-tokens' + its path with '/' → '-' (red.js settings.init). */
export function editorKey(root: string): string {
  return 'auth-tokens' + root.slice(0, -1).replace(/\//g, '-');
}

export interface Login {
  start: () => void;
  showLogin: (msg?: string) => void;
}

export function setUpLogin(page: LoginPage): Login {
  const { root, ownKey, state: S } = page;
  const EDITOR_KEY = editorKey(root);

  function editorToken(): string | null {
    try {
      const t = JSON.parse(localStorage.getItem(EDITOR_KEY) || 'null') as { access_token?: string } | null;
      return t && t.access_token ? t.access_token : null;
    } catch {
      return null;
    }
  }

  function start(): void {
    fetch(root + 'auth/login', { cache: 'no-store' })
      .then((r) => r.json() as Promise<{ type?: string } | null>)
      .then((login) => {
        S.adminAuth = !!(login && login.type);
        S.loginType = (login && login.type) ?? null;
        if (!S.adminAuth) return page.enter(null);
        const t = sessionStorage.getItem(ownKey) || editorToken();
        if (t) return page.enter(t);
        showLogin();
      })
      .catch(() => {
        page.notice('Cannot reach Node-RED. Retrying…', true);
        setTimeout(start, 5000);
      });
  }

  function showLogin(msg?: string): void {
    page.stopPolling();
    S.token = null;
    $('app').hidden = true;
    $('logout').hidden = true;
    $('who').textContent = '';
    $('login').hidden = false;
    $('login-error').textContent = S.loginType === 'strategy' ? 'Log in to the Node-RED editor first, then reload this page.' : msg || '';
    $('login-user').focus();
  }

  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    $('login-error').textContent = '';
    // scope '' = the user's own permissions (what the editor asks for); '*' would fail for anyone but an admin.
    const form = new URLSearchParams({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '',
      username: input('login-user').value,
      password: input('login-password').value,
    });
    fetch(root + 'auth/token', { method: 'POST', body: form })
      // Node-RED's own token endpoint (OAuth 2 password grant): { access_token } or { error_description }
      .then((r) => readAnswer<{ access_token?: unknown; error_description?: unknown }>(r))
      .then((r) => {
        input('login-password').value = '';
        const token = r.body?.access_token;
        if (r.status < 200 || r.status > 299 || typeof token !== 'string' || token === '') {
          const why = r.body?.error_description;
          $('login-error').textContent = (typeof why === 'string' && why) || 'Login failed: wrong username or password.';
          return;
        }
        sessionStorage.setItem(ownKey, token);
        page.enter(token);
      })
      .catch(() => {
        $('login-error').textContent = 'Login failed: Node-RED did not answer.';
      });
  });

  $('logout').addEventListener('click', () => {
    const t = S.token;
    sessionStorage.removeItem(ownKey);
    if (t && t === editorToken()) localStorage.removeItem(EDITOR_KEY);
    if (t) {
      fetch(root + 'auth/revoke', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + t, 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: t }),
      }).catch(() => {});
    }
    showLogin();
  });

  return { start, showLogin };
}
