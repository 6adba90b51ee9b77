/**
 * DOM helpers of the supervisors' pages. Data only ever enters a page through textContent and
 * attributes, never parsed as HTML.
 */

/** An element the page's HTML shell (web/server/*-html.ts) declares; a missing id is a bug in the shell. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}
export const input = (id: string): HTMLInputElement => $<HTMLInputElement>(id);

export type Child = Node | string | null | undefined | false;
export type Props = Record<string, unknown> & { text?: string; className?: string; onclick?: (ev: MouseEvent) => void };

/** Build an element; text only via textContent; an attribute that is undefined, null or false is left out (true → ''). */
export function el(tag: string, props?: Props | null, children?: Child[]): HTMLElement {
  const e = document.createElement(tag);
  if (props) {
    for (const k in props) {
      const v = props[k];
      if (k === 'text') e.textContent = v as string;
      else if (k === 'className') e.className = v as string;
      else if (k === 'onclick') e.addEventListener('click', v as (ev: MouseEvent) => void);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  (children ?? []).forEach((c) => {
    if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  });
  return e;
}

/** An SVG element; attributes that are undefined are left out. */
export function svg(tag: string, attrs: Record<string, string | number | undefined>, text?: string): SVGElement {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const k in attrs) if (attrs[k] !== undefined) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function pad2(n: number): string {
  return (n < 10 ? '0' : '') + n;
}
/** "14:05" in the browser's local time (the plant's). */
export function hm(ms: number): string {
  const d = new Date(ms);
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
}
/** "14:05:09" in the browser's local time. */
export function hms(ms: number): string {
  return hm(ms) + ':' + pad2(new Date(ms).getSeconds());
}
export function unit(u: string | undefined | null): string {
  return u ? ' ' + u : '';
}
