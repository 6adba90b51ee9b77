/**
 * Serving a self-contained TwinLoop page (approvals, overview): the page holds no data, so it loads
 * without a token and logs in through Node-RED's /auth/token; a fresh nonce per response is the
 * only source its inline script and style may come from.
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

export function sendPage(res: Response, render: (nonce: string) => string): void {
  const nonce = randomBytes(16).toString('base64');
  res.set({
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  res.send(render(nonce));
}
