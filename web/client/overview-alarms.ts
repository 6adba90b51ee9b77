/**
 * The overview page's Alarms panel: the alarms of every twin-alarm node (active, awaiting
 * acknowledgement, shelved), most urgent first, with Acknowledge, Shelve (a duration and a reason)
 * and Unshelve for a user whose permissions allow it. The buttons are a convenience: the server
 * checks the permission, the bounds and the reason again (web/server/overview-api.ts POST api/alarm)
 * and records the action under the logged-in user. Bundled into overview.js.
 */
import { durationText } from '../../runtime/alarm/alarm-actions.js';
import { $, el, hms } from './dom.js';
import { readAnswer } from './answer.js';
import type * as Api from './overview-types.js';

export interface AlarmsPanel {
  /** New poll data; the panel redraws only when something it shows changed, never under an open form. */
  render(d: Api.Data, drift: Api.DriftEvent[]): void;
  reset(): void;
}

interface Opts {
  api: string;
  token(): string | null;
  /** Poll again now (after an action). */
  refresh(): void;
}

const STATE_TEXT: Record<string, string> = {
  'unack-active': 'active, unacknowledged',
  'ack-active': 'active, acknowledged',
  'unack-rtn': 'returned to normal, unacknowledged',
  shelved: 'shelved',
  'out-of-service': 'out of service',
};
/**
 * A drift event up to this long before the alarm's start may explain it (the drift detector may also
 * flag it later); an older one (a setpoint step an hour ago) says nothing about this episode.
 */
const DRIFT_BEFORE_MS = 10 * 60_000;

export function setUpAlarms(o: Opts): AlarmsPanel {
  let rows: Api.AlarmRow[] = [];
  let sources: Record<string, Api.AlarmSource> = {};
  let rights = { ack: false, shelve: false };
  let drift: Api.DriftEvent[] = [];
  let shown = '';
  /** The form open under one alarm: the panel is not redrawn under it while the user types. */
  let open: { key: string; kind: 'shelve' | 'unshelve' } | null = null;
  let busy = false;

  function keyOf(r: Api.AlarmRow): string {
    return r.sourceId + ' ' + r.alarmId;
  }

  function say(text: string, bad: boolean): void {
    $('alarm-result').textContent = bad ? '' : text;
    $('alarm-error').textContent = bad ? text : '';
  }

  function post(r: Api.AlarmRow, body: Record<string, unknown>, done: string): void {
    if (busy) return;
    busy = true;
    const headers: Record<string, string> = { Accept: 'application/json', 'Content-Type': 'application/json' };
    const tok = o.token();
    if (tok) headers.Authorization = 'Bearer ' + tok;
    void fetch(o.api + 'alarm', {
      method: 'POST',
      headers: headers,
      cache: 'no-store',
      body: JSON.stringify(Object.assign({ sourceId: r.sourceId, alarmId: r.episodeId || r.alarmId }, body)),
    })
      .then(function (res) {
        return readAnswer<Api.AlarmActionAnswer>(res);
      })
      .then(function (res) {
        const answer = res.body;
        if (res.status !== 200 || !answer || !answer.ok)
          return say('Not done: ' + (res.error || 'the server answered ' + res.status), true);
        open = null;
        say(answer.changed ? done + ' ' + r.tag + ' as ' + answer.user + '.' : r.tag + ': nothing to do (already done).', false);
        shown = '';
        draw();
        o.refresh();
      })
      .catch(function () {
        say('Not done: Node-RED did not answer.', true);
      })
      .then(function () {
        busy = false;
      });
  }

  /** Sensor fault or process change, from the alarm node, else from a drift event on the same tag around the alarm's start. */
  function classification(r: Api.AlarmRow): HTMLElement | null {
    const c = r.classification;
    let text = '';
    if (c) {
      text = c.kind === 'sensor-fault' ? 'sensor fault' + (c.faultType ? ' (' + c.faultType + ')' : '') : c.kind.replace('-', ' ');
      if (c.moved && c.moved.length) text += '; moved with it: ' + c.moved.join(', ');
      if (c.still && c.still.length) text += '; did not move: ' + c.still.join(', ');
    } else if (r.startTsMs !== undefined) {
      const from = r.startTsMs - DRIFT_BEFORE_MS;
      const e = drift
        .filter(function (d) {
          return d.asset === r.asset && d.tag === r.tag && d.tsMs >= from;
        })
        .pop();
      if (!e || e.kind === 'unclassified') return null;
      const rel = (e.evidence && e.evidence.related) || [];
      const moved = rel
        .filter(function (x) {
          return x.moved;
        })
        .map(function (x) {
          return x.tag;
        });
      const still = rel
        .filter(function (x) {
          return !x.moved && x.usable !== false;
        })
        .map(function (x) {
          return x.tag;
        });
      text =
        (e.kind === 'sensor-fault' ? 'sensor fault' + (e.faultType ? ' (' + e.faultType + ')' : '') : 'process change') +
        ' (drift ' +
        e.method +
        ' at ' +
        hms(e.tsMs) +
        ')' +
        (moved.length ? '; moved with it: ' + moved.join(', ') : '') +
        (still.length ? '; did not move: ' + still.join(', ') : '');
    }
    return text ? el('div', { className: 'cls', 'data-classification': c ? c.kind : 'drift', text: 'Likely: ' + text }) : null;
  }

  function shelveForm(r: Api.AlarmRow): HTMLElement {
    const max = (sources[r.sourceId] || { maxShelveMs: 3600000 }).maxShelveMs;
    const amount = el('input', { type: 'number', id: 'shelve-amount', min: 1, step: 1, value: 1, required: true }) as HTMLInputElement;
    const unitSel = el('select', { id: 'shelve-unit' }, [
      el('option', { value: 60000, text: 'minutes' }),
      el('option', { value: 3600000, text: 'hours' }),
    ]) as HTMLSelectElement;
    unitSel.value = '3600000';
    const reason = el('input', { id: 'shelve-reason', maxlength: 1000, required: true, autocomplete: 'off' }) as HTMLInputElement;
    const f = el('form', { className: 'alarm-form', 'aria-label': 'Shelve ' + r.tag }, [
      el('label', { for: 'shelve-amount', text: 'Shelve for' }),
      amount,
      el('label', { for: 'shelve-unit', text: 'Unit' }),
      unitSel,
      el('span', { className: 'muted', text: 'at most ' + durationText(max) }),
      el('label', { for: 'shelve-reason', text: 'Reason' }),
      reason,
      el('button', { type: 'submit', text: 'Shelve' }),
      el('button', { type: 'button', text: 'Cancel', onclick: cancel }),
    ]);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      const ms = Math.round(Number(amount.value) * Number(unitSel.value));
      if (!(ms >= 60000)) return say('Shelve for at least 1 minute.', true);
      if (ms > max) return say('Shelve for at most ' + durationText(max) + ': shelving is time-limited.', true);
      if (!reason.value.trim()) return say('Give a reason: it is recorded.', true);
      post(r, { action: 'shelve', durationMs: ms, reason: reason.value }, 'Shelved for ' + durationText(ms) + ':');
    });
    return f;
  }

  function unshelveForm(r: Api.AlarmRow): HTMLElement {
    const reason = el('input', { id: 'unshelve-reason', maxlength: 1000, required: true, autocomplete: 'off' }) as HTMLInputElement;
    const f = el('form', { className: 'alarm-form', 'aria-label': 'Unshelve ' + r.tag }, [
      el('label', { for: 'unshelve-reason', text: 'Reason' }),
      reason,
      el('button', { type: 'submit', text: 'Unshelve' }),
      el('button', { type: 'button', text: 'Cancel', onclick: cancel }),
    ]);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!reason.value.trim()) return say('Give a reason: it is recorded.', true);
      post(r, { action: 'unshelve', reason: reason.value }, 'Unshelved');
    });
    return f;
  }

  function cancel(): void {
    open = null;
    say('', false);
    shown = '';
    draw();
  }

  function row(r: Api.AlarmRow): HTMLElement {
    const key = keyOf(r);
    const since = r.startTsMs !== undefined ? ' · since ' + hms(r.startTsMs) : '';
    const who: string[] = [];
    const ack = r.ackedBy;
    if (ack) who.push('acknowledged by ' + ack.user + ' at ' + hms(ack.tsMs) + (ack.reason ? ': ' + ack.reason : ''));
    if (r.shelvedBy) {
      const until = r.shelvedUntilTsMs !== undefined && isFinite(r.shelvedUntilTsMs) ? ' until ' + hms(r.shelvedUntilTsMs) : '';
      who.push('shelved by ' + r.shelvedBy.user + until + ': ' + r.shelvedBy.reason);
    }
    if (r.outOfServiceBy) who.push('out of service by ' + r.outOfServiceBy.user + ': ' + r.outOfServiceBy.reason);
    const buttons: HTMLElement[] = [];
    const unack = r.state === 'unack-active' || r.state === 'unack-rtn';
    if (rights.ack && unack)
      buttons.push(
        el('button', {
          type: 'button',
          text: 'Acknowledge',
          'aria-label': 'Acknowledge ' + r.tag,
          onclick: function () {
            post(r, { action: 'ack' }, 'Acknowledged');
          },
        }),
      );
    const opener = function (kind: 'shelve' | 'unshelve', text: string) {
      return el('button', {
        type: 'button',
        text: text + '…',
        'aria-label': text + ' ' + r.tag + '…',
        onclick: function () {
          open = { key: key, kind: kind };
          say('', false);
          shown = '';
          draw();
        },
      });
    };
    if (rights.shelve && r.state !== 'shelved' && r.state !== 'out-of-service') buttons.push(opener('shelve', 'Shelve'));
    // a chattering alarm is shelved by the system and released by it
    if (rights.shelve && r.state === 'shelved' && !r.chattering) buttons.push(opener('unshelve', 'Unshelve'));
    const attrs = {
      className: 'alarm prio-' + r.priority + (unack ? ' unack' : ''),
      'data-alarm-id': r.alarmId,
      'data-state': r.state,
      'data-priority': r.priority,
    };
    const li = el('li', attrs, [
      el('div', {}, [
        el('span', { className: 'prio', text: r.priority.toUpperCase() }),
        ' ',
        el('b', { text: r.tag }),
        ' on ' + r.asset + ' · ',
        el('span', { className: 'state', text: STATE_TEXT[r.state] || r.state }),
        since,
      ]),
      el('div', { className: 'msg', text: r.message }),
      classification(r),
      who.length ? el('div', { className: 'muted', text: who.join(' · ') }) : null,
      buttons.length ? el('div', { className: 'actions' }, buttons) : null,
    ]);
    if (open && open.key === key) li.appendChild(open.kind === 'shelve' ? shelveForm(r) : unshelveForm(r));
    return li;
  }

  function draw(): void {
    const want = JSON.stringify([rows, rights, drift.length, open]);
    if (want === shown) return;
    shown = want;
    const ul = $('alarms');
    ul.textContent = '';
    rows.forEach(function (r) {
      ul.appendChild(row(r));
    });
    $('no-alarms').hidden = rows.length > 0;
    const acting = rights.shelve ? 'you may acknowledge, shelve and unshelve' : rights.ack ? 'you may acknowledge' : 'you may look only';
    const ids = Object.keys(sources);
    const ledger = ids.some(function (k) {
      return sources[k].recordedIn === 'ledger';
    });
    const rec = ' Actions are recorded under your login' + (ledger ? ' in the audit ledger.' : '.');
    const names = ids
      .map(function (k) {
        return sources[k].name;
      })
      .join(', ');
    $('alarm-rights').textContent = ids.length ? 'From ' + names + ': ' + acting + '.' + rec : 'No twin-alarm node is deployed.';
    if (open) {
      const first = document.querySelector<HTMLInputElement>('.alarm-form input');
      if (first) first.focus();
    }
  }

  return {
    render: function (d: Api.Data, dr: Api.DriftEvent[]) {
      rows = d.alarms || [];
      rights = d.alarmRights || { ack: false, shelve: false };
      sources = {};
      (d.alarmSources || []).forEach(function (s) {
        sources[s.id] = s;
      });
      drift = dr;
      if (
        open &&
        !rows.some(function (r) {
          return keyOf(r) === open!.key;
        })
      )
        open = null;
      if (open) return;
      draw();
    },
    reset: function () {
      shown = '';
      open = null;
    },
  };
}
