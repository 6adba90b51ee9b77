/** Bad command-line input: the dispatcher prints the one-line message and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parse a number option strictly (the whole string must be a number) or throw a UsageError. */
export function numberOption(
  raw: string | undefined,
  name: string,
  check: (n: number) => boolean = () => true,
  rule = '',
): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${rule || 'a number'}, got '${raw}'`);
  return n;
}
