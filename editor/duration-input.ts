/// <reference types="jquery" />
/**
 * A duration field of an edit dialog as a number and a unit. The node's own input (the one
 * Node-RED reads on Done, `node-input-<field>`) stays in the form, hidden, and keeps the stored
 * value in the field's base unit; the widget writes it on every change, so the dialog needs no
 * oneditsave and existing flows keep their values.
 */
import { type DurationUnit, ENV_REF, showDuration, storeDuration } from './duration.js';

export interface DurationOptions {
  /** unit of the stored number (default 'ms') */
  base?: DurationUnit;
  /** offer milliseconds (fields where sub-second values matter) */
  subSecond?: boolean;
  /** units offered (default: from the base up to days) */
  units?: DurationUnit[];
  /** unit for 0 or blank (default: the smallest offered above ms) */
  zeroUnit?: DurationUnit;
  /** width of the number box (default 70px) */
  width?: string;
}

const ORDER: DurationUnit[] = ['ms', 's', 'min', 'h', 'd'];

function unitsFor(opts: DurationOptions): DurationUnit[] {
  if (opts.units) return opts.units;
  const base = opts.base ?? 'ms';
  const from = ORDER.indexOf(base === 'ms' && !opts.subSecond ? 's' : base);
  return ORDER.slice(from);
}

/** Turn the input `target` (selector or element) into a number + unit pair; idempotent. */
export function durationInput(target: string | JQuery, opts: DurationOptions = {}): void {
  const $orig = typeof target === 'string' ? $(target) : target;
  if ($orig.length !== 1 || $orig.data('twinloopDuration')) return;
  $orig.data('twinloopDuration', true);
  const base = opts.base ?? 'ms';
  const units = unitsFor(opts);
  const zeroUnit = opts.zeroUnit ?? units.find((u) => u !== 'ms') ?? units[0];
  const id = $orig.attr('id') ?? '';

  const $box = $('<span/>', { class: 'twinloop-duration', style: 'white-space:nowrap;' });
  const $value = $('<input/>', { type: 'text', id: id ? `${id}-value` : undefined, style: `width:${opts.width ?? '70px'};` });
  const $unit = $('<select/>', { id: id ? `${id}-unit` : undefined, style: 'width:auto; margin-left:4px; min-width:60px;' });
  for (const u of units) $('<option/>', { value: u }).text(u).appendTo($unit);
  $box.append($value, $unit).insertAfter($orig);
  $orig.hide();
  // a label for the hidden input now names the number box
  if (id) $(`label[for="${id}"]`).attr('for', `${id}-value`);
  if ($orig.attr('title')) $value.attr('title', String($orig.attr('title')));

  const placeholder = String($orig.attr('placeholder') ?? '');
  const hint = placeholder !== '' && Number.isFinite(Number(placeholder)) ? showDuration(placeholder, base, units, zeroUnit) : null;
  const shown = showDuration($orig.val(), base, units, zeroUnit);
  $value.val(shown.text);
  $unit.val(shown.unit ?? (hint?.unit || zeroUnit));
  if (hint && hint.unit) $value.attr('placeholder', hint.text);
  else if (placeholder !== '') $value.attr('placeholder', placeholder);

  function sync(): void {
    const text = String($value.val() ?? '');
    // `${VAR}` (or text that is no number) is stored as typed: the unit does not apply to it
    $unit.toggle(!ENV_REF.test(text.trim()));
    const stored = storeDuration(text, String($unit.val()) as DurationUnit, base);
    if (String($orig.val()) !== stored) $orig.val(stored).trigger('change');
  }
  $value.on('input change', sync);
  $unit.on('change', sync);
  $unit.toggle(!ENV_REF.test(shown.text));

  // Node-RED marks the (hidden) node input invalid: show it on the number box.
  const mirror = (): void => {
    $value.toggleClass('input-error', $orig.hasClass('input-error'));
  };
  new MutationObserver(mirror).observe($orig[0], { attributes: true, attributeFilter: ['class'] });
  mirror();
}
