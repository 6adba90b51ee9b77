import { expect } from 'chai';
import { AlarmManager, lineOfPath, type AlarmManagerOptions } from '../../runtime/alarm/manager.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { TwinError } from '../../runtime/model/errors.js';

const T0 = Date.UTC(2024, 0, 1);
const DT = 10_000;
const at = (frame: number): number => T0 + frame * DT;

/** Marble input: one character per 10 s frame. '-' no sample (a tick), else a score or a boolean. */
const INPUT: Record<string, number | boolean> = { '0': 0, h: 0.8, '1': 1.5, '2': 3, T: true, F: false };
/** Marble output: one character per event; several in one frame in parentheses, as RxJS writes them. */
function code(e: AlarmEvent): string {
  switch (e.kind) {
    case 'raised':
      return e.annunciated ? 'R' : 'r';
    case 'cleared':
      return 'C';
    case 'acked':
      return 'A';
    case 'shelved':
      return 'S';
    case 'unshelved':
      return 'U';
    case 'chattering':
      return 'X';
    case 'suppressed':
      return 'Z';
    case 'out-of-service':
      return 'O';
    case 'in-service':
      return 'I';
  }
}

type Action = (m: AlarmManager, tsMs: number) => AlarmEvent[];

/** Drive alarm `id` by a marble; actions run at their frame before its sample. Returns the output marble and the events. */
function run(m: AlarmManager, id: string, input: string, actions: Record<number, Action> = {}): { marble: string; events: AlarmEvent[] } {
  const events: AlarmEvent[] = [];
  let marble = '';
  for (let i = 0; i < input.length; i++) {
    const ts = at(i);
    const evs: AlarmEvent[] = [];
    if (actions[i]) evs.push(...actions[i](m, ts));
    const ch = input[i];
    evs.push(...(ch === '-' ? m.tick(ts) : m.update(id, INPUT[ch], ts)));
    events.push(...evs);
    const codes = evs.map(code).join('');
    marble += codes.length === 0 ? '-' : codes.length === 1 ? codes : `(${codes})`;
  }
  return { marble, events };
}

/** A manager with no on-delay unless a spec sets one (the marbles count frames from the first abnormal sample). */
const mgr = (opts: AlarmManagerOptions = {}): AlarmManager =>
  new AlarmManager({ now: () => T0, ...opts, defaults: { onDelayMs: 0, ...opts.defaults } });
const ID = 'site/area/line1/extruder/melt_temp';

describe('alarm manager (runtime/alarm/manager)', () => {
  it('one alarm per episode: a dip shorter than the off-delay continues it; start and end are the raw times', () => {
    const m = mgr({ defaults: { offDelayMs: 20_000 } });
    const { marble, events } = run(m, ID, '0011101100000');
    expect(marble).to.equal('--R-------C--');
    const [raised, cleared] = events;
    expect(raised).to.include({ episodeId: `${ID}#1`, startTsMs: at(2), state: 'unack-active', line: 'site/area/line1' });
    expect(cleared).to.include({ episodeId: `${ID}#1`, startTsMs: at(2), endTsMs: at(8), tsMs: at(10), state: 'unack-rtn' });
  });

  it('on-delay: fleeting excursions raise nothing; a standing one raises, its start the first abnormal sample', () => {
    const m = mgr({ defaults: { onDelayMs: 20_000, offDelayMs: 0 } });
    const { marble, events } = run(m, ID, '0101110000');
    expect(marble).to.equal('-----RC---');
    expect(events[0]).to.include({ startTsMs: at(3), tsMs: at(5) });
  });

  it('deadband: a score between setpoint − deadband and the setpoint keeps the episode open', () => {
    const m = mgr({ defaults: { deadband: 0.5, offDelayMs: 0 } });
    expect(run(m, ID, '01hhh1h0h0').marble).to.equal('-R-----C--');
    const noBand = mgr({ defaults: { offDelayMs: 0 } });
    expect(run(noBand, ID, '01hhh1h0h0').marble).to.equal('-RC--RC---');
  });

  it('acknowledge while active (ack-active → normal on return) and after the return (unack-rtn → normal)', () => {
    const m = mgr({ defaults: { offDelayMs: 0 } });
    const ack: Action = (mm, ts) => mm.ack(ID, 'ann', 'seen, checking the heater band', ts);
    const r = run(m, ID, '0111000110000', { 3: ack, 11: ack });
    expect(r.marble).to.equal('-R-AC--R-C-A-');
    const [, acked1, cleared1, raised2, cleared2, acked2] = r.events;
    expect(acked1).to.include({ state: 'ack-active', episodeId: `${ID}#1` });
    expect(acked1.action).to.deep.equal({ user: 'ann', reason: 'seen, checking the heater band', tsMs: at(3) });
    expect(cleared1.state).to.equal('normal');
    expect(raised2).to.include({ episodeId: `${ID}#2`, state: 'unack-active' });
    expect(cleared2.state).to.equal('unack-rtn');
    expect(acked2).to.include({ state: 'normal', episodeId: `${ID}#2`, endTsMs: at(9) });
    expect(m.stateOfId(ID)).to.equal('normal');
    // acknowledging again is a no-op, an unknown id an error
    expect(m.ack(ID, 'ann', 'again', at(13))).to.deep.equal([]);
    expect(() => m.ack('nope', 'ann', 'x', at(13)))
      .to.throw(TwinError)
      .with.property('code', 'BAD_PAYLOAD');
  });

  it('an activation before an unacknowledged return was acknowledged is a new episode (ISA D → B)', () => {
    const m = mgr({ defaults: { offDelayMs: 0 } });
    const r = run(m, ID, '01001');
    expect(r.marble).to.equal('-RC-R');
    expect(r.events[2]).to.include({ episodeId: `${ID}#2`, state: 'unack-active' });
    // a stale episode id acknowledges nothing; the current one does
    expect(m.ack(`${ID}#1`, 'ann', 'old', at(5))).to.deep.equal([]);
    expect(m.ack(`${ID}#2`, 'ann', 'ok', at(5))[0]).to.include({ kind: 'acked', state: 'ack-active' });
  });

  it('chattering: the third activation within a minute is reported once and shelved; released after a quiet minute', () => {
    const m = mgr({ defaults: { offDelayMs: 0 } });
    const r = run(m, ID, '1010101010000000000');
    // activations at frames 0, 2, 4 (40 s apart ≤ 60 s), then 6 and 8 silently; quiet 60 s after frame 8
    expect(r.marble).to.equal('RCRCX---------U----');
    expect(r.events[4].action).to.include({ user: 'system', tsMs: at(4) });
    expect(r.events[4]).to.include({ state: 'shelved', annunciated: true });
    expect(r.events[5]).to.include({ kind: 'unshelved', state: 'normal' });
    // counted as three alarms for the rates (two raises and the one chattering report), not five
    expect(m.rates(at(19)).total.count).to.equal(3);
  });

  it('chattering released with the condition standing annunciates it afresh', () => {
    const m = mgr({ defaults: { offDelayMs: 0 } });
    expect(run(m, ID, '10101111111111').marble).to.equal('RCRCX-----(UR)---');
  });

  it('shelving: hidden until it expires, with who, when and why; annunciated afresh if still active', () => {
    const m = mgr({ defaults: { offDelayMs: 0 } });
    const shelve: Action = (mm, ts) => mm.shelve(ID, 'bob', 'heater band replaced, settling', at(8), ts);
    const r = run(m, ID, '0111111111', { 3: shelve });
    expect(r.marble).to.equal('-R-S----(UR)-');
    const shelved = r.events[1];
    expect(shelved).to.include({ state: 'shelved', untilTsMs: at(8), episodeId: `${ID}#1` });
    expect(shelved.action).to.deep.equal({ user: 'bob', reason: 'heater band replaced, settling', tsMs: at(3) });
    expect(r.events[2]).to.include({ kind: 'unshelved', state: 'unack-active' });
    expect(r.events[2].action).to.include({ user: 'system', reason: 'shelving expired' });
    expect(r.events[3]).to.include({ kind: 'raised', episodeId: `${ID}#1`, annunciated: true });
  });

  it('shelving needs who and why, ends after the present, and is capped at maxShelveMs; the clock is injected', () => {
    const m = mgr({ maxShelveMs: 3_600_000, now: () => at(0) });
    m.update(ID, 0, at(0));
    expect(() => m.shelve(ID, 'bob', ' ', at(5), at(0))).to.throw(TwinError, /reason/);
    expect(() => m.shelve(ID, '', 'x', at(5), at(0))).to.throw(TwinError, /who/);
    expect(() => m.shelve(ID, 'bob', 'x', at(0), at(0))).to.throw(TwinError, /after/);
    const [ev] = m.shelve(ID, 'bob', 'maintenance', at(0) + 86_400_000);
    expect(ev).to.include({ untilTsMs: at(0) + 3_600_000, state: 'shelved' });
    expect(ev.action!.tsMs).to.equal(at(0));
    const [un] = m.unshelve(ID, 'bob', 'done', at(1));
    expect(un).to.include({ kind: 'unshelved', state: 'normal' });
    expect(m.unshelve(ID, 'bob', 'again', at(2))).to.deep.equal([]);
  });

  it('out of service: evaluated silently, annunciated on return to service if still active', () => {
    const m = mgr({ defaults: { offDelayMs: 0 } });
    const oos: Action = (mm, ts) => mm.setOutOfService(ID, 'cal', 'transmitter swap', ts);
    const back: Action = (mm, ts) => mm.returnToService(ID, 'cal', 'swapped', ts);
    const r = run(m, ID, '0011111111', { 1: oos, 7: back });
    expect(r.marble).to.equal('-O-----(IR)--');
    expect(r.events[1]).to.include({ kind: 'in-service', state: 'unack-active' });
    expect(m.stateOfId(ID)).to.equal('unack-active');
    expect(m.rates(at(9)).total.count).to.equal(1);
  });

  it('a line stop is one alarm, not forty: children raised while the root stands are recorded, not annunciated', () => {
    const root = 'site/area/line1/line/stopped';
    const m = mgr({
      defaults: { onDelayMs: 20_000, offDelayMs: 0 },
      alarms: { [root]: { onDelayMs: 0, children: ['site/area/line1/*'], releaseMs: 30_000 } },
    });
    const kids = Array.from({ length: 40 }, (_, i) => `site/area/line1/asset${i}/temp`);
    const all: AlarmEvent[] = [];
    const step = (frame: number, rootOn: boolean, kidsOn: (i: number) => boolean): void => {
      for (let i = 0; i < kids.length; i++) all.push(...m.update(kids[i], kidsOn(i) ? 2 : 0, at(frame)));
      all.push(...m.update(root, rootOn, at(frame)));
    };
    step(0, false, () => true); // the temperatures fall first ...
    step(1, true, () => true); // ... the stop signal comes 10 s later, before their on-delay ends
    for (let f = 2; f <= 5; f++) step(f, true, () => true);
    for (let f = 6; f <= 8; f++) step(f, false, (i) => i === 7); // restart: all recover but asset7
    step(9, false, (i) => i === 7); // release 30 s after the root's end (frame 6)
    const annunciated = all.filter((e) => e.kind === 'raised' && e.annunciated);
    expect(annunciated.map((e) => `${e.alarmId}@${(e.tsMs - T0) / DT}`)).to.deep.equal([`${root}@1`, 'site/area/line1/asset7/temp@9']);
    const records = all.filter((e) => e.kind === 'raised' && !e.annunciated);
    expect(records).to.have.length(40);
    expect(records.every((e) => e.suppressedBy === root && e.state === 'suppressed-by-design')).to.equal(true);
    expect(m.rates(at(9)).lines.map((l) => [l.line, l.count])).to.deep.equal([['site/area/line1', 2]]);
    expect(m.stateOfId('site/area/line1/asset3/temp')).to.equal('normal');
    expect(m.stateOfId('site/area/line1/asset7/temp')).to.equal('unack-active');
  });

  it('a child already annunciated when its root is raised is withdrawn (suppressed), once', () => {
    const root = 'site/area/line1/line/stopped';
    const kid = 'site/area/line1/press/melt_p';
    const m = mgr({ defaults: { offDelayMs: 0 }, alarms: { [root]: { children: [kid], releaseMs: 0 } } });
    const ev = [...m.update(kid, 3, at(0)), ...m.update(root, true, at(1)), ...m.update(kid, 3, at(2))];
    expect(ev.map(code).join('')).to.equal('RRZ');
    expect(ev[2]).to.include({ alarmId: kid, state: 'suppressed-by-design', suppressedBy: root });
    // the root returns with the child still abnormal: the child is annunciated again at once (release 0)
    const back = [...m.update(root, false, at(3)), ...m.update(kid, 3, at(4))];
    expect(back.map((e) => `${code(e)}:${e.alarmId}`)).to.deep.equal([`C:${root}`, `R:${kid}`]);
  });

  it('a child flapping during a stop is neither reported as chattering nor counted; a tag first seen then is suppressed', () => {
    const root = 'site/area/line1/line/stopped';
    const kid = 'site/area/line1/press/melt_p';
    const m = mgr({ defaults: { offDelayMs: 0 }, alarms: { [root]: { children: ['site/area/line1/*'], releaseMs: 0 } } });
    m.update(root, true, at(0));
    const r = run(m, kid, '-1010101');
    expect(r.marble).to.equal('-rCrCrCr');
    expect(r.events.every((e) => !e.annunciated && e.suppressedBy === root)).to.equal(true);
    m.update('site/area/line1/new/tag', 0, at(8));
    expect(m.stateOfId('site/area/line1/new/tag')).to.equal('suppressed-by-design');
    expect(m.rates(at(8)).total.count).to.equal(1);
  });

  it('priority: consequence and the score at annunciation (a large deviation escalates one step)', () => {
    const m = mgr({
      alarms: { a: { consequence: 'minor' }, b: { consequence: 'minor' }, c: { consequence: 'severe' }, d: {} },
    });
    expect(m.update('a', 1.5, at(0))[0].priority).to.equal('low');
    expect(m.update('b', 3, at(0))[0].priority).to.equal('medium');
    expect(m.update('c', 1.5, at(0))[0].priority).to.equal('high');
    expect(m.update('d', true, at(0))[0].priority).to.equal('medium');
  });

  it('tick completes an off-delay with no new sample; peakScore follows the episode', () => {
    const m = mgr({ defaults: { offDelayMs: 60_000 } });
    m.update(ID, 1.5, at(0));
    m.update(ID, 4, at(1));
    m.update(ID, 0, at(2));
    expect(m.tick(at(7))).to.deep.equal([]);
    const [c] = m.tick(at(8));
    expect(c).to.include({ kind: 'cleared', endTsMs: at(2), peakScore: 4, priority: 'medium' });
  });

  it('bad input throws a typed error and leaves the state as it was', () => {
    const m = mgr();
    m.update(ID, 2, at(5));
    expect(() => m.update(ID, NaN, at(6)))
      .to.throw(TwinError)
      .with.property('code', 'NOT_FINITE');
    expect(() => m.update(ID, 2, at(4)))
      .to.throw(TwinError)
      .with.property('code', 'OUT_OF_ORDER');
    expect(() => m.update(ID, 'x' as unknown as number, at(6)))
      .to.throw(TwinError)
      .with.property('code', 'NOT_NUMERIC');
    expect(() => m.update(ID, 2, NaN))
      .to.throw(TwinError)
      .with.property('code', 'BAD_TIMESTAMP');
    expect(m.stateOfId(ID)).to.equal('unack-active');
    expect(() => new AlarmManager({ defaults: { deadband: -1 } }))
      .to.throw(TwinError)
      .with.property('code', 'BAD_CONFIG');
  });

  it('list() shows each alarm with its state, episode and who shelved it', () => {
    const m = mgr();
    m.update(ID, 2, at(0));
    m.shelve(ID, 'bob', 'known', at(30), at(1));
    const [v] = m.list();
    expect(v).to.include({ alarmId: ID, state: 'shelved', episodeId: `${ID}#1`, shelvedUntilTsMs: at(30), chattering: false });
    expect(v.shelvedBy).to.include({ user: 'bob', reason: 'known' });
  });

  it('lineOfPath: site/area/line of an ISA-95 path', () => {
    expect(lineOfPath('site/area/line1/asset/tag')).to.equal('site/area/line1');
    expect(lineOfPath('line1/tag')).to.equal('line1');
    expect(lineOfPath('tag')).to.equal('tag');
  });
});

describe('alarm manager defaults', () => {
  it('1 Hz: shorter than the on-delay (30 s) raises nothing; a longer one raises once, ends after the off-delay (60 s)', () => {
    const m = new AlarmManager({ now: () => T0 });
    const ev: AlarmEvent[] = [];
    for (let s = 0; s <= 200; s++) ev.push(...m.update(ID, s >= 10 && s < 25 ? 3 : s >= 100 && s < 140 ? 3 : 0, T0 + s * 1000));
    expect(ev.map((e) => `${e.kind}@${(e.tsMs - T0) / 1000}`)).to.deep.equal(['raised@130', 'cleared@200']);
    expect(ev[0].startTsMs).to.equal(T0 + 100_000);
  });
});
