import { StatusCodes } from 'node-opcua';
import type { Quality } from '../model/quality.js';

/**
 * OPC UA StatusCode → TwinLoop quality (OPC 10000-4 §7.39): the two top bits of the 32-bit code
 * are the severity: 00 good, 01 uncertain, 10 and 11 bad. The reason is the code's symbolic name
 * (`BadSensorFailure`, `UncertainLastUsableValue`) so a screen or a person can tell why.
 */
export interface StatusQuality {
  quality: Quality;
  /** The status name when the quality is not good (or a good code other than plain Good). */
  reason?: string;
}

export type StatusLike = number | { value: number; name?: string };

export function qualityOfStatusCode(code: StatusLike): StatusQuality {
  const value = (typeof code === 'number' ? code : code.value) >>> 0;
  const severity = value >>> 30;
  const quality: Quality = severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
  const name = statusName(code, value);
  // a plain Good (possibly with info bits such as the overflow bit) needs no reason
  if (quality === 'good' && (value & 0xffff0000) === 0) return { quality };
  return { quality, reason: name };
}

/** The symbolic name of a status code (`BadSensorFailure`), or its hex form when unknown. */
export function statusName(code: StatusLike, value = (typeof code === 'number' ? code : code.value) >>> 0): string {
  if (typeof code === 'object' && code.name) return baseName(code.name);
  // the info bits (low 16) do not change the meaning of the code: look up the code part
  const name = namesByCode().get((value & 0xffff0000) >>> 0);
  if (name) return name;
  return `0x${value.toString(16).padStart(8, '0').toUpperCase()}`;
}

// node-opcua appends info bits to a name (`Good#Overflow`): keep the code's own name
function baseName(name: string): string {
  const i = name.indexOf('#');
  return i > 0 ? name.slice(0, i) : name;
}

let names: Map<number, string> | undefined;
function namesByCode(): Map<number, string> {
  if (!names) {
    names = new Map();
    for (const [name, sc] of Object.entries(StatusCodes as unknown as Record<string, { value?: unknown }>)) {
      if (typeof sc?.value === 'number' && !names.has(sc.value >>> 0)) names.set(sc.value >>> 0, name);
    }
  }
  return names;
}
