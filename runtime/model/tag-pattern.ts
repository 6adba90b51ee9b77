/**
 * Tag patterns (twin-screen's per-tag overrides, twin-drift's watched and related tags), over the
 * namespace's `asset/tag` paths. A pattern without `/` matches the tag name; one with `/`
 * matches the whole `asset/tag` path. `*` matches within one path level, `**` across levels,
 * `?` one character; everything else is literal.
 */
export function compileTagPattern(pattern: string): (asset: string, tag: string) => boolean {
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' && pattern[i + 1] === '*') {
      src += '.*';
      i++;
    } else if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else src += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(`^${src}$`);
  return pattern.includes('/') ? (asset, tag) => re.test(`${asset}/${tag}`) : (_asset, tag) => re.test(tag);
}

/** A list of tags or patterns as an editor field gives it: an array, or text separated by commas or new lines. */
export function tagList(x: unknown): string[] {
  if (Array.isArray(x)) return x.map((s) => String(s).trim()).filter((s) => s !== '');
  if (typeof x !== 'string') return [];
  return x
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
