/**
 * The kind of a TwinLoop record, told from its shape (records carry no type tag on the wire, so
 * that a Reading stays the plain object the unified namespace expects). Used where records of
 * several kinds share one path: MQTT topics `<asset>/twin/<kind>/<tag>`, historian measurements.
 */
export type RecordKind = 'reading' | 'estimate' | 'drift' | 'score' | 'rul' | 'window' | 'energy' | 'demand' | 'baseline';

export function recordKind(rec: Record<string, unknown>): RecordKind | undefined {
  const has = (k: string, type: string) => typeof rec[k] === type;
  if (has('method', 'string') && has('startTsMs', 'number')) return 'drift';
  if (has('rulMs', 'number') && has('healthIndex', 'number')) return 'rul';
  if (has('rank', 'number') && has('startLocal', 'string')) return 'window';
  if (has('scope', 'string') && has('energyKwh', 'number') && has('costEur', 'number')) return 'energy';
  if (has('blockStartMs', 'number') && has('forecastKw', 'number')) return 'demand';
  if (has('expectedKwh', 'number') && has('cusumKwh', 'number')) return 'baseline';
  if (has('method', 'string') && has('score', 'number')) return 'score';
  if (has('model', 'string') && has('variance', 'number') && has('value', 'number')) return 'estimate';
  if (has('tag', 'string') && has('value', 'number') && has('quality', 'string')) return 'reading';
  return undefined;
}

/** `<kind>/<tag>` for per-tag records, or undefined when the shape is not a known record. */
export function recordPath(rec: Record<string, unknown>): string | undefined {
  const kind = recordKind(rec);
  if (!kind) return undefined;
  return typeof rec.tag === 'string' && rec.tag !== '' ? `${kind}/${rec.tag}` : kind;
}
