/**
 * The one reader of the pages' own JSON APIs (approvals, overview, alarm actions). The server is this
 * package's web/server/, and each route's answer is declared once in approvals-types.ts / overview-types.ts,
 * in the runtime's own types: `body` is read as that type. What is checked here is what may come from
 * elsewhere: an answer that is not JSON (a proxy's error page) gives body null, and a refusal's text is
 * taken only when `error` is a string.
 */
import { isRecord } from '../../runtime/model/errors.js';

export interface Answer<T> {
  status: number;
  /** The route's answer; null when the body is empty or not JSON. */
  body: T | null;
  /** A refusal's `{ error }` text, when it has one. */
  error: string | undefined;
}

export function readAnswer<T>(r: Response): Promise<Answer<T>> {
  return r.text().then(function (t) {
    let j: unknown = null;
    try {
      j = t ? (JSON.parse(t) as unknown) : null;
    } catch {
      j = null;
    }
    const error = isRecord(j) && typeof j.error === 'string' && j.error !== '' ? j.error : undefined;
    return { status: r.status, body: j as T | null, error: error };
  });
}

/** The body of an answer that must have one (a 200 of the page's own API); a missing one fails like a lost connection. */
export function bodyOf<T>(a: Answer<T>): T {
  if (a.body === null) throw new Error('the answer (HTTP ' + a.status + ') is not JSON');
  return a.body;
}
