/**
 * The last error handler of an Express app: one line of JSON, never a stack or a server path.
 * Without it, a body that body-parser refuses (413 over Node-RED's apiMaxLength, 400 for bad JSON)
 * ends in Express's final handler, which outside NODE_ENV=production answers with the stack trace
 * (node_modules paths and all), before any login is checked. It must sit on the app that holds
 * body-parser or on an app around it: Express passes an error past a mounted sub-app.
 */
import type { NextFunction, Request, Response } from 'express';

interface HttpError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  limit?: unknown;
  message?: unknown;
}

/** Short, path-free answers for body-parser's errors; anything else is "internal error" (logged). */
export function quietErrorHandler(log: (text: string) => void) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const e = (err ?? {}) as HttpError;
    const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
    let answer: string;
    if (e.type === 'entity.too.large') {
      answer = typeof e.limit === 'number' ? `the request body is larger than ${e.limit} bytes` : 'the request body is too large';
    } else if (e.type === 'entity.parse.failed') {
      answer = 'the request body is not valid JSON';
    } else if (status >= 400 && status < 500) {
      answer = 'the request was refused';
    } else {
      answer = 'internal error';
    }
    log(`${req.method} ${req.path}: ${status} ${String(e.message ?? err).split('\n')[0]}`);
    res.status(status >= 400 && status < 600 ? status : 500).json({ error: answer });
  };
}
