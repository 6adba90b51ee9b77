/**
 * twin-screen's editor fields → runtime ScreenConfig, and the input check. Kept apart from the node
 * file, whose only export must be the registration function.
 */
import type { NodeDef } from 'node-red';
import { singleReadingInput, type Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { NUMERIC_KEYS, validateScreenConfig, type ScreenConfig } from '../../runtime/ingest/screen/config.js';
import { translator as sharedTranslator } from '../shared/i18n.js';

/** One row of the editor's overrides table; blank fields inherit the defaults, `none` removes a limit. */
export interface TwinScreenOverrideRow {
  match?: string;
  lowLimit?: string | number;
  highLimit?: string | number;
  maxRatePerS?: string | number;
  stuckSamples?: string | number;
  spikeWindow?: string | number;
  staleAfterMs?: string | number;
}

export interface TwinScreenDef extends NodeDef {
  lowLimit?: string | number;
  highLimit?: string | number;
  maxRatePerS?: string | number;
  stuckTolerance?: string | number;
  stuckSamples?: string | number;
  stuckWindowMs?: string | number;
  spikeWindow?: string | number;
  spikeK?: string | number;
  spikeMinDelta?: string | number;
  staleAfterMs?: string | number;
  maxFutureMs?: string | number;
  sevRange?: string;
  sevRate?: string;
  sevStuck?: string;
  sevSpike?: string;
  sevDuplicate?: string;
  sevOutOfOrder?: string;
  sevFuture?: string;
  sevStale?: string;
  overrides?: TwinScreenOverrideRow[];
  /** Second output with a copy of every reading that is not good after screening. */
  flaggedOutput?: boolean;
  /** Message property the Reading is read from and the screened Reading written to; blank = payload. */
  property?: string;
  output?: string;
}

const ROW_FIELDS = ['lowLimit', 'highLimit', 'maxRatePerS', 'stuckSamples', 'spikeWindow', 'staleAfterMs'] as const;
const NONE_OK: ReadonlySet<string> = new Set(['lowLimit', 'highLimit', 'maxRatePerS']);

/** The runtime config from the editor's fields (validation is the runtime's: validateScreenConfig). */
export function configFromDef(def: TwinScreenDef): ScreenConfig {
  const raw: Record<string, unknown> = {};
  for (const k of NUMERIC_KEYS) if (def[k] !== undefined) raw[k] = def[k];
  raw.severity = {
    range: def.sevRange || undefined,
    rate: def.sevRate || undefined,
    stuck: def.sevStuck || undefined,
    spike: def.sevSpike || undefined,
    duplicate: def.sevDuplicate || undefined,
    outOfOrder: def.sevOutOfOrder || undefined,
    future: def.sevFuture || undefined,
    stale: def.sevStale || undefined,
  };
  if (def.overrides !== undefined && !Array.isArray(def.overrides)) throw new TwinError('BAD_CONFIG', 'overrides must be a list');
  raw.overrides = (def.overrides ?? []).map((row) => {
    const o: Record<string, unknown> = { match: row?.match };
    for (const k of ROW_FIELDS) {
      const v = row?.[k];
      if (v === undefined || v === null || String(v).trim() === '') continue; // blank: inherit
      if (String(v).trim().toLowerCase() === 'none' && NONE_OK.has(k))
        o[k] = undefined; // explicitly off
      else o[k] = v;
    }
    return o;
  });
  return validateScreenConfig(raw);
}

/** Turn an input payload into a Reading or throw a TwinError that says what is wrong. */
export function readingFromPayload(payload: unknown): Reading {
  return singleReadingInput(payload, 'twin-screen');
}

/** Localised text for twin-screen (RED._, else its en-US catalogue: nodes/shared/i18n.ts). */
export function translator(i18n: (key: string, vars?: Record<string, unknown>) => string) {
  return sharedTranslator(i18n, 'twin-screen');
}
