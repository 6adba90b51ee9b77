/**
 * MQTT topic filters and the mapping of topic levels to asset and tag (unified namespace).
 *
 * Pattern syntax (one string, levels separated by `/`):
 * - `literal`   the level must equal the text;
 * - `+`         any one level, not captured (as in MQTT);
 * - `#`         any remaining levels (zero or more), last level only, not captured (as in MQTT);
 * - `{name}`    any one level, captured as `name`;
 * - `{name+}`   one or more levels, captured as `name` (joined with `/`); at most one per pattern,
 *               and not together with `#`.
 *
 * Templates build the asset and the tag from the captures: `{name}` is replaced by the capture,
 * anything else is kept literally. Defaults: asset `{asset}`, tag `{tag}`.
 *
 * Examples
 * - `{asset+}/{tag}`: asset = every level but the last, tag = the last level.
 * - `{site}/{area}/{line}/{machine}/{tag}` with asset template `{site}/{area}/{line}/{machine}`.
 * - `uns/{asset+}/twin/reading/{tag}`: readings republished by twin-mqtt-out under prefix `uns`.
 *
 * The subscription filter is derived from the pattern: captures become `+`, and from a
 * multi-level capture onwards the filter ends in `#` (MQTT has no mid-topic multi-level wildcard).
 */
import { TwinError } from '../model/errors.js';

type Level =
  | { kind: 'literal'; text: string }
  | { kind: 'one' } // `+`
  | { kind: 'rest' } // `#`
  | { kind: 'capture'; name: string; multi: boolean };

export interface TopicPattern {
  readonly source: string;
  readonly levels: readonly Level[];
  /** The MQTT subscription filter that covers every topic the pattern can match. */
  readonly filter: string;
  /** Capture names, in order. */
  readonly captures: readonly string[];
}

const CAPTURE = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;

/** Parse and validate a pattern; throws TwinError('BAD_CONFIG') naming the problem. */
export function parseTopicPattern(source: string): TopicPattern {
  if (typeof source !== 'string' || source.trim() === '') throw new TwinError('BAD_CONFIG', 'topic pattern is empty');
  const parts = source.split('/');
  const levels: Level[] = [];
  const captures: string[] = [];
  let multi = 0;
  parts.forEach((p, i) => {
    const m = CAPTURE.exec(p);
    if (m) {
      if (captures.includes(m[1])) throw new TwinError('BAD_CONFIG', `topic pattern captures {${m[1]}} twice`);
      captures.push(m[1]);
      if (m[2]) multi++;
      levels.push({ kind: 'capture', name: m[1], multi: m[2] === '+' });
    } else if (p === '+') levels.push({ kind: 'one' });
    else if (p === '#') {
      if (i !== parts.length - 1) throw new TwinError('BAD_CONFIG', `'#' must be the last level of the topic pattern`);
      multi++;
      levels.push({ kind: 'rest' });
    } else if (/[+#{}]/.test(p)) {
      throw new TwinError('BAD_CONFIG', `topic pattern level '${p}' is neither literal, '+', '#', '{name}' nor '{name+}'`);
    } else levels.push({ kind: 'literal', text: p });
  });
  if (multi > 1) throw new TwinError('BAD_CONFIG', 'topic pattern may have only one multi-level part ({name+} or #)');
  const filterParts: string[] = [];
  for (const l of levels) {
    if (l.kind === 'literal') filterParts.push(l.text);
    else if (l.kind === 'one' || (l.kind === 'capture' && !l.multi)) filterParts.push('+');
    else {
      filterParts.push('#');
      break;
    }
  }
  return { source, levels, filter: filterParts.join('/'), captures };
}

/** Index of the multi-level part ({name+} or #), -1 if none; computed once per pattern. */
const multiIndex = new WeakMap<TopicPattern, number>();
function multiAtOf(p: TopicPattern): number {
  let i = multiIndex.get(p);
  if (i === undefined) {
    i = p.levels.findIndex((l) => l.kind === 'rest' || (l.kind === 'capture' && l.multi));
    multiIndex.set(p, i);
  }
  return i;
}

/** One level: does it match, and record a capture. (A plain function: this runs per message.) */
function matchLevel(l: Level, part: string, out: Record<string, string>): boolean {
  if (l.kind === 'literal') return l.text === part;
  if (l.kind === 'capture') {
    if (part === '') return false; // an empty level would make an empty asset or tag
    out[l.name] = part;
  }
  return true;
}

/** Match a topic against a pattern; the captures, or undefined when it does not match. */
export function matchTopic(p: TopicPattern, topic: string): Record<string, string> | undefined {
  const parts = topic.split('/');
  const out: Record<string, string> = {};
  const lv = p.levels;
  const multiAt = multiAtOf(p);
  if (multiAt < 0) {
    if (parts.length !== lv.length) return undefined;
    for (let i = 0; i < lv.length; i++) if (!matchLevel(lv[i], parts[i], out)) return undefined;
    return out;
  }
  const after = lv.length - multiAt - 1;
  const multi = lv[multiAt];
  const minMulti = multi.kind === 'rest' ? 0 : 1;
  if (parts.length < multiAt + after + minMulti) return undefined;
  for (let i = 0; i < multiAt; i++) if (!matchLevel(lv[i], parts[i], out)) return undefined;
  for (let k = 0; k < after; k++) if (!matchLevel(lv[lv.length - 1 - k], parts[parts.length - 1 - k], out)) return undefined;
  if (multi.kind === 'capture') {
    // The levels multiAt … length-after-1, joined by '/': the topic between their offsets.
    const end = parts.length - after;
    let from = 0;
    for (let i = 0; i < multiAt; i++) from += parts[i].length + 1;
    let to = from;
    for (let i = multiAt; i < end; i++) {
      if (parts[i] === '') return undefined;
      to += parts[i].length + 1;
    }
    out[multi.name] = topic.slice(from, to - 1);
  }
  return out;
}

const REF = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Names a template refers to. */
export function templateRefs(template: string): string[] {
  return [...template.matchAll(REF)].map((m) => m[1]);
}

/** Fill a template from captures (every reference must be known; see validateTemplate). */
export function fillTemplate(template: string, captures: Record<string, string>): string {
  return template.replace(REF, (_, name: string) => captures[name] ?? '');
}

/**
 * `fillTemplate` with the template parsed once (no regular expression per message). The result
 * is the same string: literal text kept, each `{name}` replaced by `captures[name] ?? ''`.
 */
export function compileTemplate(template: string): (captures: Record<string, string>) => string {
  const literals: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const m of template.matchAll(REF)) {
    literals.push(template.slice(last, m.index));
    names.push(m[1]);
    last = (m.index as number) + m[0].length;
  }
  const tail = template.slice(last);
  if (names.length === 0) return () => template;
  if (names.length === 1 && literals[0] === '' && tail === '') {
    const name = names[0];
    return (c) => `${c[name] ?? ''}`;
  }
  return (c) => {
    let s = '';
    for (let i = 0; i < names.length; i++) s += literals[i] + (c[names[i]] ?? '');
    return s + tail;
  };
}

/** Check that a template only refers to names in `known`; throws BAD_CONFIG otherwise. */
export function validateTemplate(template: string, known: readonly string[], what: string): void {
  if (typeof template !== 'string' || template.trim() === '') throw new TwinError('BAD_CONFIG', `${what} template is empty`);
  for (const r of templateRefs(template)) {
    if (!known.includes(r)) throw new TwinError('BAD_CONFIG', `${what} template refers to {${r}}, which the pattern does not capture`);
  }
}

/** Does an MQTT topic match an MQTT subscription filter (`+`, `#`)? */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  return matchFilterLevels(filter.split('/'), topic);
}

function matchFilterLevels(f: readonly string[], topic: string): boolean {
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return !(i === 0 && t[0]?.startsWith('$'));
    if (i >= t.length) return false;
    if (f[i] === '+') {
      if (i === 0 && t[0].startsWith('$')) return false;
      continue;
    }
    if (f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** `topicMatchesFilter` for one filter, split once (a link matches every message against its filters). */
export function compileTopicFilter(filter: string): (topic: string) => boolean {
  if (filter === '#') return (topic) => !topic.startsWith('$'); // the whole topic space but $SYS & co.
  if (!filter.includes('+') && !filter.includes('#')) return (topic) => topic === filter;
  const f = filter.split('/');
  return (topic) => matchFilterLevels(f, topic);
}

/** A compiled mapping from topic to { asset, tag? }. */
export interface TopicMapping {
  pattern: TopicPattern;
  assetTemplate: string;
  /** Absent when tags come from elsewhere (JSON object keys). */
  tagTemplate?: string;
}

export interface TopicMappingConfig {
  pattern: string;
  assetTemplate?: string;
  tagTemplate?: string;
  /** False when tags come from the payload (json-object mode): no tag template needed. */
  needsTag: boolean;
}

export function compileTopicMapping(cfg: TopicMappingConfig): TopicMapping {
  const pattern = parseTopicPattern(cfg.pattern);
  const assetTemplate = cfg.assetTemplate?.trim() || '{asset}';
  validateTemplate(assetTemplate, pattern.captures, 'asset');
  let tagTemplate: string | undefined;
  if (cfg.needsTag) {
    tagTemplate = cfg.tagTemplate?.trim() || '{tag}';
    validateTemplate(tagTemplate, pattern.captures, 'tag');
  } else if (cfg.tagTemplate?.trim()) {
    tagTemplate = cfg.tagTemplate.trim();
    validateTemplate(tagTemplate, pattern.captures, 'tag');
  }
  return { pattern, assetTemplate, tagTemplate };
}

export type TopicMapper = (topic: string) => { asset: string; tag?: string } | undefined;

/** `mapTopic` for one mapping, with its templates compiled once. */
export function topicMapper(m: TopicMapping): TopicMapper {
  const pattern = m.pattern;
  const asset = compileTemplate(m.assetTemplate);
  const tag = m.tagTemplate ? compileTemplate(m.tagTemplate) : undefined;
  return (topic) => {
    const c = matchTopic(pattern, topic);
    if (!c) return undefined;
    return tag ? { asset: asset(c), tag: tag(c) } : { asset: asset(c) };
  };
}

/** Map a topic to asset and tag; undefined when the topic is not covered by the pattern. */
export function mapTopic(m: TopicMapping, topic: string): { asset: string; tag?: string } | undefined {
  const c = matchTopic(m.pattern, topic);
  if (!c) return undefined;
  const asset = fillTemplate(m.assetTemplate, c);
  return m.tagTemplate ? { asset, tag: fillTemplate(m.tagTemplate, c) } : { asset };
}
