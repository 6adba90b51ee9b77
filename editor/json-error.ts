/**
 * Where in the dialog's JSON text an error from the runtime's checks points: the line JSON.parse
 * names, or the line that first quotes the period, shift or stop the message names. Pure (no DOM).
 */

/** 1-based line of a character offset. */
function lineOf(text: string, offset: number): number {
  return text.slice(0, Math.max(0, offset)).split('\n').length;
}

/** The 1-based line `message` is about in `text`, or null when it names none. */
export function errorLine(text: string, message: string): number | null {
  const line = /\bline (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const pos = /\bposition (\d+)/.exec(message);
  if (pos) return lineOf(text, Number(pos[1]));
  // the runtime quotes names as 'peak-winter'; the JSON holds them as "peak-winter"
  const name = /'([^']+)'/.exec(message);
  if (name) {
    const at = text.indexOf(JSON.stringify(name[1]));
    if (at >= 0) return lineOf(text, at);
  }
  return null;
}
