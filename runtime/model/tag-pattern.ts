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
