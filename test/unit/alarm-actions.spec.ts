import { expect } from 'chai';
import {
  ActionRate,
  alarmLedgerEntry,
  alarmMessage,
  alarmRows,
  isActionEvent,
  parseAlarmAction,
  splitAlarmId,
} from '../../runtime/alarm/alarm-actions.js';
import type { AlarmSourceHandle } from '../../runtime/alarm/alarm-registry.js';
import { AlarmManager, type AlarmView } from '../../runtime/alarm/manager.js';

const ID = 'acme/plant1/line1/extruder/melt_temp';
const T0 = Date.UTC(2026, 0, 1);
const H = 3_600_000;

/** A source over a real AlarmManager (no delays), as twin-alarm registers one. */
function source(m: AlarmManager, id = 'alarm1'): AlarmSourceHandle {
  const act = async () => ({ ok: true, events: [] });
  return { id, name: 'line alarms', maxShelveMs: 12 * H, recordedIn: '', list: () => m.list(), act };
}

describe('alarm actions (runtime/alarm/alarm-actions.ts)', function () {
  it('splits an alarm or episode id into asset and tag at the last /', function () {
    expect(splitAlarmId(ID)).to.deep.equal({ asset: 'acme/plant1/line1/extruder', tag: 'melt_temp' });
    expect(splitAlarmId(`${ID}#3`)).to.deep.equal({ asset: 'acme/plant1/line1/extruder', tag: 'melt_temp' });
    expect(splitAlarmId('line_stop')).to.deep.equal({ asset: '', tag: 'line_stop' });
  });

  it('lists the alarms an operator must see, unacknowledged first, then by priority; normal ones not', function () {
    const alarms = { 'a/b/c/d/severe': { consequence: 'severe' as const } };
    const m = new AlarmManager({ defaults: { onDelayMs: 0, offDelayMs: 0 }, alarms, now: () => T0 });
    m.update(ID, 1.5, T0);
    m.update('a/b/c/d/severe', 1.2, T0 + 1000);
    m.update('a/b/c/d/quiet', 0.2, T0 + 1000);
    m.update('a/b/c/d/acked', 1.1, T0 + 2000);
    m.ack('a/b/c/d/acked', 'op', '', T0 + 3000);
    m.update('a/b/c/d/back', 1.1, T0 + 1000);
    m.update('a/b/c/d/back', 0.1, T0 + 4000);
    const rows = alarmRows([source(m)]);
    expect(rows.map((r) => [r.tag, r.state, r.priority])).to.deep.equal([
      ['severe', 'unack-active', 'high'],
      ['melt_temp', 'unack-active', 'medium'],
      ['back', 'unack-rtn', 'medium'],
      ['acked', 'ack-active', 'medium'],
    ]);
    expect(rows[1]).to.include({ sourceId: 'alarm1', sourceName: 'line alarms', asset: 'acme/plant1/line1/extruder', startTsMs: T0 });
    expect(rows[1].alarmId).to.equal(ID);
    expect(rows[1].message).to.equal('melt_temp: unusual for its own history (score 1.5, 1 = threshold)');
    expect(rows[2].message).to.equal('back: unusual for its own history (score 1.1, 1 = threshold); returned to normal');
    expect(rows[3].ackedBy).to.deep.equal({ user: 'op', reason: '', tsMs: T0 + 3000 });
    m.shelve(ID, 'sup', 'sensor work', T0 + 2 * H, T0 + 5000);
    expect(alarmRows([source(m)]).find((r) => r.alarmId === ID)).to.include({ state: 'shelved', shelvedUntilTsMs: T0 + 2 * H });
  });

  it('words a boolean condition and a chattering alarm', function () {
    const v = { alarmId: 'a/line_stop', peakScore: NaN, chattering: false } as AlarmView;
    expect(alarmMessage(v)).to.equal('line_stop: condition active');
    expect(alarmMessage({ ...v, chattering: true })).to.equal('line_stop: chattering, shelved by the system until it settles');
    expect(alarmMessage({ ...v, peakScore: 1e6 })).to.equal('line_stop: unusual for its own history (score ≥ 100, 1 = threshold)');
    // what the score measured, as the source lists it
    expect(alarmMessage({ ...v, peakScore: 2, method: 'twin-residual' })).to.equal(
      "line_stop: off the twin's prediction (score 2.0, 1 = threshold)",
    );
    expect(alarmMessage({ ...v, peakScore: 2, method: 'learned-baseline' })).to.equal(
      'line_stop: unusual for its own history (score 2.0, 1 = threshold)',
    );
    expect(alarmMessage({ ...v, peakScore: 2, method: 'dropout' })).to.equal(
      'line_stop: readings missing or bad (score 2.0, 1 = threshold)',
    );
  });

  describe('parseAlarmAction', function () {
    const base = { sourceId: 'alarm1', alarmId: ID };
    const ok = (body: unknown) => {
      const p = parseAlarmAction(body, 'dana', 12 * H);
      if ('error' in p) throw new Error(p.error);
      return p.ok;
    };
    const error = (body: unknown) => {
      const p = parseAlarmAction(body, 'dana', 12 * H);
      return 'error' in p ? p.error : undefined;
    };

    it('takes the user from the login, never from the body', function () {
      const ack = ok({ ...base, action: 'ack', user: 'someone else' });
      expect(ack).to.deep.equal({ ...base, action: 'ack', user: 'dana', reason: '', via: 'page' });
      expect(ok({ ...base, action: 'shelve', durationMs: 2 * H, reason: ' sensor work ' })).to.deep.equal({
        ...base,
        action: 'shelve',
        user: 'dana',
        reason: 'sensor work',
        durationMs: 2 * H,
        via: 'page',
      });
      expect(ok({ ...base, action: 'unshelve', reason: 'done' }).reason).to.equal('done');
    });

    it('bounds the duration of shelving and wants a reason to shelve or unshelve', function () {
      const long = error({ ...base, action: 'shelve', durationMs: 12 * H + 1, reason: 'x' });
      expect(long).to.equal('shelve for at most 12 h (shelving is time-limited)');
      expect(error({ ...base, action: 'shelve', durationMs: 59_999, reason: 'x' })).to.equal('shelve for at least 1 min');
      const fraction = error({ ...base, action: 'shelve', durationMs: 1.5 * 60_000 + 0.5, reason: 'x' });
      expect(fraction).to.equal('durationMs must be a whole number of milliseconds');
      expect(error({ ...base, action: 'shelve', reason: 'x' })).to.equal('durationMs must be a whole number of milliseconds');
      const blank = error({ ...base, action: 'shelve', durationMs: H, reason: '   ' });
      expect(blank).to.equal('a reason is required to shelve (it is recorded)');
      expect(error({ ...base, action: 'unshelve' })).to.equal('a reason is required to unshelve (it is recorded)');
      expect(error({ ...base, action: 'ack', durationMs: H })).to.equal('durationMs is only for shelve');
      expect(parseAlarmAction({ ...base, action: 'shelve', durationMs: 90 * 60_000, reason: 'x' }, 'dana', H)).to.deep.equal({
        status: 400,
        error: 'shelve for at most 1 h (shelving is time-limited)',
      });
    });

    it('refuses other actions, missing ids, long reasons and non-objects', function () {
      expect(error({ ...base, action: 'delete' })).to.equal('action must be "ack", "shelve" or "unshelve"');
      expect(error({ alarmId: ID, action: 'ack' })).to.equal('sourceId must name a twin-alarm node');
      expect(error({ sourceId: 'alarm1', alarmId: '', action: 'ack' })).to.equal('alarmId must be an alarm or episode id');
      expect(error({ ...base, alarmId: 'x'.repeat(501), action: 'ack' })).to.equal('alarmId must be an alarm or episode id');
      expect(error({ ...base, action: 'ack', reason: 'r'.repeat(1001) })).to.equal('the reason is longer than 1000 characters');
      expect(error({ ...base, action: 'ack', reason: 5 })).to.equal('reason must be text');
      expect(error([])).to.equal('the request must be a JSON object');
      expect(error(null)).to.equal('the request must be a JSON object');
    });
  });

  it('ActionRate allows `limit` actions per user in any window and says how long to wait', function () {
    const r = new ActionRate(3, 60_000);
    expect([r.take('a', 0), r.take('a', 10_000), r.take('a', 20_000)]).to.deep.equal([0, 0, 0]);
    expect(r.take('a', 30_000)).to.equal(30_000);
    expect(r.take('b', 30_000), 'another user is not held back').to.equal(0);
    expect(r.take('a', 60_000), 'the first action left the window').to.equal(0);
    expect(r.take('a', 60_001)).to.equal(9_999);
  });

  it('ActionRate remembers a bounded number of users', function () {
    const r = new ActionRate(1, 60_000, 2);
    r.take('a', 0);
    r.take('b', 0);
    r.take('c', 0);
    expect(r.take('a', 1), 'a was forgotten first').to.equal(0);
    expect(r.take('c', 1)).to.be.above(0);
  });

  it('records an action event in the ledger with who, when, why, the end of shelving and where it came from', function () {
    const m = new AlarmManager({ defaults: { onDelayMs: 0 }, now: () => T0 });
    const raised = m.update(ID, 1.5, T0);
    expect(raised.filter(isActionEvent)).to.deep.equal([]);
    const [shelved] = m.shelve(ID, 'dana', 'sensor work', T0 + 2 * H, T0 + 1000);
    expect(isActionEvent(shelved)).to.equal(true);
    expect(alarmLedgerEntry(shelved as Parameters<typeof alarmLedgerEntry>[0], 'page')).to.deep.equal({
      type: 'alarm',
      asset: 'acme/plant1/line1/extruder',
      tag: 'melt_temp',
      data: {
        kind: 'shelved',
        alarmId: ID,
        episodeId: `${ID}#1`,
        line: 'acme/plant1/line1',
        state: 'shelved',
        priority: 'medium',
        user: 'dana',
        reason: 'sensor work',
        tsMs: T0 + 1000,
        untilTsMs: T0 + 2 * H,
        via: 'page',
      },
    });
  });
});
