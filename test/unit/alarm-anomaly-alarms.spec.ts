import { expect } from 'chai';
import { AnomalyAlarms, BASELINE_ON_DELAY_MS } from '../../runtime/alarm/anomaly-alarms.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { TwinError } from '../../runtime/model/errors.js';
import { gauss } from '../support/drift-mv-data.js';

const ASSET = 'acme/plant1/line1/extruder';
const T0 = Date.UTC(2026, 0, 1);
const STEP_MS = 1000;

function rd(tag: string, i: number, value: number, quality = 'good'): Record<string, unknown> {
  return { asset: ASSET, tag, value, tsMs: T0 + i * STEP_MS, quality, source: 'test' };
}

const runaway = (k: number): number => 3 * Math.pow(1.08, k);
const announced = (evs: AlarmEvent[], kind: string): AlarmEvent[] => evs.filter((e) => e.kind === kind && e.annunciated);

describe('AnomalyAlarms (detector per tag → alarm manager)', () => {
  let wallMs = 0;
  const wall = (): number => wallMs;

  /**
   * 600 s of noise (σ 1), an `excursionS` s runaway (3·1.08^k above normal), then `afterS` s of noise. 200 s: longer
   * than a learned-baseline tag's 120 s on-delay (BASELINE_ON_DELAY_MS).
   */
  function run(a: AnomalyAlarms, tag: string, excursionS: number, afterS = 200, seed = 1, quality = 'good'): AlarmEvent[] {
    const g = gauss(seed);
    const out: AlarmEvent[] = [];
    const n = 600 + excursionS + afterS;
    for (let i = 0; i < n; i++) {
      const exc = i >= 600 && i < 600 + excursionS;
      out.push(...a.push(rd(tag, i, 50 + g() + (exc ? runaway(i - 600) : 0), exc ? quality : 'good')));
    }
    return out;
  }

  it('an excursion longer than the on-delay is one episode: raised once, cleared once, same episode id', () => {
    const a = new AnomalyAlarms({}, wall);
    const evs = run(a, 'melt_temp', 200);
    const raised = announced(evs, 'raised');
    const cleared = evs.filter((e) => e.kind === 'cleared');
    expect(raised).to.have.length(1);
    expect(cleared).to.have.length(1);
    expect(cleared[0].episodeId).to.equal(raised[0].episodeId);
    expect(raised[0].alarmId).to.equal(`${ASSET}/melt_temp`);
    // the learned baseline's on-delay: annunciated at least 120 s after the excursion began
    expect(raised[0].tsMs - (T0 + 600 * STEP_MS)).to.be.at.least(BASELINE_ON_DELAY_MS);
  });

  it('bad-quality readings are not scored: flagged bad, the same excursion is one dropout alarm (none with dropoutAlarm off)', () => {
    const a = new AnomalyAlarms({}, wall);
    const raised = announced(run(a, 'melt_temp', 200, 200, 1, 'bad'), 'raised');
    expect(raised).to.have.length(1);
    expect(raised[0].cause).to.include({ kind: 'sensor-fault', faultType: 'dropout' });
    const off = new AnomalyAlarms({ dropoutAlarm: false }, wall);
    expect(announced(run(off, 'melt_temp', 200, 200, 1, 'bad'), 'raised')).to.have.length(0);
  });

  it('tags outside `watch` are ignored', () => {
    const a = new AnomalyAlarms({ watch: ['zone*_temp'] }, wall);
    expect(run(a, 'melt_temp', 200)).to.deep.equal([]);
    expect(a.list()).to.deep.equal([]);
  });

  it('a root tag (value ≠ 0) suppresses its children: one annunciated alarm for the stop', () => {
    const stop = `${ASSET}/line_stop`;
    const a = new AnomalyAlarms({ roots: [{ id: stop, children: [`${ASSET}/*`] }] }, wall);
    const gs = [gauss(1), gauss(2), gauss(3)];
    const evs: AlarmEvent[] = [];
    for (let i = 0; i < 1000; i++) {
      const stopped = i >= 590 && i < 800;
      evs.push(...a.push(rd('line_stop', i, stopped ? 1 : 0)));
      for (let k = 0; k < 3; k++) evs.push(...a.push(rd(`zone${k}_temp`, i, 200 + gs[k]() - (stopped && i >= 600 ? runaway(i - 600) : 0))));
    }
    const raised = announced(evs, 'raised');
    expect(raised.map((e) => e.alarmId)).to.deep.equal([stop]);
    const recorded = evs.filter((e) => e.kind === 'raised' && !e.annunciated);
    expect(recorded.length).to.be.greaterThan(0);
    for (const e of recorded) expect(e.suppressedBy).to.equal(stop);
  });

  it('consequence sets the priority', () => {
    const a = new AnomalyAlarms({ consequences: { [`${ASSET}/melt_temp`]: 'severe' } }, wall);
    const raised = announced(run(a, 'melt_temp', 200), 'raised');
    expect(raised[0].priority).to.equal('high');
  });

  it('commands: ack records the user; shelve until a wall time lands on the alarm clock; bad commands throw', () => {
    wallMs = 1_000_000;
    const a = new AnomalyAlarms({}, wall);
    const id = `${ASSET}/melt_temp`;
    run(a, 'melt_temp', 200);
    const acked = a.command('ack', { id, user: 'ana', reason: 'seen' });
    expect(acked.map((e) => e.kind)).to.deep.equal(['acked']);
    expect(acked[0].action?.user).to.equal('ana');
    expect(a.manager.stateOfId(id)).to.equal('normal');
    expect(() => a.command('ack', { id, reason: 'x' })).to.throw(TwinError);
    expect(() => a.command('silence', { id, user: 'ana' })).to.throw(TwinError);
    expect(() => a.command('ack', { id: 'nope/x', user: 'ana' })).to.throw(TwinError);
    const sh = a.command('shelve', { id, user: 'ana', reason: 'sensor work', untilTsMs: wallMs + 3_600_000 });
    expect(sh[0].kind).to.equal('shelved');
    // the shelve end moved onto the alarm clock: one hour after the newest reading's time
    expect(sh[0].untilTsMs).to.equal(T0 + 999 * STEP_MS + 3_600_000);
    expect(a.manager.stateOfId(id)).to.equal('shelved');
  });

  it('tick advances the alarm clock by the wall time since the last reading: the off-delay completes', () => {
    wallMs = 5_000;
    const a = new AnomalyAlarms({}, wall);
    const evs = run(a, 'melt_temp', 200, 20);
    expect(announced(evs, 'raised')).to.have.length(1);
    expect(evs.filter((e) => e.kind === 'cleared')).to.have.length(0);
    expect(a.tick()).to.deep.equal([]);
    wallMs += 120_000;
    const later = a.tick();
    expect(later.map((e) => e.kind)).to.deep.equal(['cleared']);
  });

  it('recurring spikes on a tag with no model (the learned baseline): one alarm, a sensor fault of type spike', () => {
    const a = new AnomalyAlarms({}, wall);
    const g = gauss(3);
    const h = gauss(4);
    const evs: AlarmEvent[] = [];
    // 900 s of noise, then a +40 σ spike on every 20th reading of melt_pressure; melt_temp stays as it was
    for (let i = 0; i < 2400; i++) {
      evs.push(...a.push(rd('melt_pressure', i, 200 + g() + (i >= 900 && i % 20 === 7 ? 40 : 0))));
      evs.push(...a.push(rd('melt_temp', i, 230 + 0.2 * h())));
    }
    const raised = announced(evs, 'raised');
    expect(raised.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/melt_pressure`]);
    expect(raised[0].cause).to.include({ kind: 'sensor-fault', faultType: 'spike', method: 'learned-baseline' });
    expect(raised[0].tsMs - (T0 + 900 * STEP_MS)).to.be.at.least(BASELINE_ON_DELAY_MS);
  });

  it('a slow rise that does not settle: one alarm, a process change when a related tag rises too, else a sensor drift', () => {
    /** 4 h at 1 s: vibration rising 3 σ an hour; power rising with it (`together`) or flat; temperature flat. */
    const wear = (together: boolean): AlarmEvent[] => {
      const a = new AnomalyAlarms({}, wall);
      const g = gauss(5);
      const evs: AlarmEvent[] = [];
      for (let i = 0; i < 4 * 3600; i++) {
        evs.push(...a.push(rd('vibration', i, 7 + 0.1 * g() + (0.3 * i) / 3600)));
        evs.push(...a.push(rd('motor_power', i, 38 + 0.3 * g() + (together ? (0.9 * i) / 3600 : 0))));
        evs.push(...a.push(rd('melt_temp', i, 230 + 0.2 * g())));
      }
      return announced(evs, 'raised');
    };
    const both = wear(true);
    expect(both).to.have.length(1);
    expect(both[0].cause).to.include({ kind: 'process-change', method: 'learned-baseline' });
    expect(both[0].cause?.evidence.related).to.deep.include({ tag: 'melt_temp', moved: false });
    // two hours of blocks in order, then the on-delay: well before the run ends
    expect(both[0].tsMs - T0).to.be.within(2 * 3_600_000, 2.5 * 3_600_000);
    const alone = wear(false);
    expect(alone.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/vibration`]);
    expect(alone[0].cause).to.include({ kind: 'sensor-fault', faultType: 'drift' });
  });

  it('refuses out-of-order readings and bad config', () => {
    const a = new AnomalyAlarms({}, wall);
    a.push(rd('melt_temp', 10, 1));
    expect(() => a.push(rd('melt_temp', 9, 1))).to.throw(TwinError);
    expect(() => new AnomalyAlarms({ roots: [{ id: 'x', children: [] }] })).to.throw(TwinError);
    expect(() => new AnomalyAlarms({ consequences: { x: 'huge' as never } })).to.throw(TwinError);
  });
});
