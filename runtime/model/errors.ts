/**
 * Typed errors for bad input (ARCHITECTURE.md principle 3). A node reports them through done(err);
 * an RxJS error is reserved for bugs.
 */
export type TwinErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_PAYLOAD'
  | 'BAD_JSON'
  | 'NOT_NUMERIC'
  | 'NOT_FINITE'
  | 'BAD_TIMESTAMP'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNKNOWN_ALIAS'
  | 'UNMAPPED_TOPIC'
  | 'SEQUENCE_GAP'
  | 'OUT_OF_ORDER'
  | 'NOT_FITTED'
  | 'MODEL'
  | 'BAD_CSV'
  | 'BAD_FLOW'
  | 'CONNECTION'
  | 'QUEUE'
  /** the audit ledger or the used-commands store refused (broken chain, torn line, closed) */
  | 'LEDGER'
  /**
   * a well-formed input the closed loop will not act on: a command whose signature, expiry, target,
   * single use or envelope does not check out, a write result whose signature does not verify
   * (malformed input stays BAD_PAYLOAD, so a Catch node can tell the two apart)
   */
  | 'REFUSED';

export class TwinError extends Error {
  readonly code: TwinErrorCode;
  constructor(code: TwinErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwinError';
    this.code = code;
  }
}

/**
 * Refuse a configuration: throws TwinError BAD_CONFIG with the message (which names the field). One
 * helper for every config validator, so they all fail the same way; `never`, so it narrows types.
 */
export function badConfig(message: string): never {
  throw new TwinError('BAD_CONFIG', message);
}

/**
 * A JSON object (not null, not an array), its fields still `unknown`: the first step of parsing untyped
 * input (flow JSON, a message, an HTTP body, a file). The one copy for every parser.
 */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
