/**
 * The pages' browser scripts: web/client/<page>.ts, type-checked with the rest and bundled by tsup
 * (an IIFE each) to dist/web/client/<page>.js, which the page shell inlines under its per-response
 * nonce. Inlined rather than served as a file so the page stays one self-contained document under
 * script-src 'nonce-…' (no second unauthenticated route, and it works with the editor disabled).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type ClientPage = 'approvals' | 'overview';

const scripts = new Map<ClientPage, string>();

/** The bundle of one page, read once. */
export function clientScript(page: ClientPage): string {
  let js = scripts.get(page);
  if (js === undefined) {
    js = readFileSync(join(__dirname, '..', 'client', `${page}.js`), 'utf8');
    // esbuild writes '<\/script' inside strings; a literal one would end the inline script early
    if (/<\/script/i.test(js)) throw new Error(`web/client/${page}.js contains '</script': it cannot be inlined`);
    scripts.set(page, js);
  }
  return js;
}

/** A page shell with its nonce and its script in place of __NONCE__ and __SCRIPT__. */
export function pageWithScript(shell: string, page: ClientPage, nonce: string): string {
  const [head, tail] = shell.replace(/__NONCE__/g, nonce).split('__SCRIPT__');
  return head + clientScript(page) + tail;
}
