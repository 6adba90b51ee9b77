import { expect } from 'chai';
import { AnomalyAlarms } from '../../runtime/alarm/anomaly-alarms.js';
import { AlarmManager } from '../../runtime/alarm/manager.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { AnomalyDetector } from '../../runtime/anomaly/detector.js';
import { classifyChange } from '../../runtime/drift/classify.js';
import { configFromDef } from '../../nodes/twin-alarm/alarm-def.js';
import { gauss } from '../support/drift-mv-data.js';

const ASSET = 'acme/plant1/line1/extruder';
const T0 = Date.UTC(2026, 0, 1);
const at = (i: number): number => T0 + i * 1000;
const rd = (asset: string, tag: string, i: number, value: number): Record<string, unknown> => ({
  asset,
  tag,
  value,
  tsMs: at(i),
  quality: 'good',
  source: 'test',
});
const announced = (evs: AlarmEvent[]): AlarmEvent[] => evs.filter((e) => e.kind === 'raised' && e.annunciated);

describe('known inputs: a setpoint change opens a settling window (learned baseline re-learns)', function () {
  /**
   * 900 s at 1 Hz: a heater power (σ 1, no model) that answers a setpoint step at 600 s with a
   * first-order move of 15 σ (τ 40 s), and optionally the setpoint itself, 190 → 198 at 600 s.
   */
  function day(a: AnomalyAlarms, withSetpoint: boolean, seed = 3): AlarmEvent[] {
    const g = gauss(seed);
    const out: AlarmEvent[] = [];
    for (let i = 0; i < 900; i++) {
      if (withSetpoint) out.push(...a.push(rd(ASSET, 'zone1_sp', i, i < 600 ? 190 : 198)));
      const move = i < 600 ? 0 : 15 * (1 - Math.exp(-(i - 600) / 40));
      out.push(...a.push(rd(ASSET, 'zone1_heater_kw', i, 5 + g() + move)));
    }
    return out;
  }

  it('the heater power that moves with a setpoint step raises nothing; the setpoint itself is never scored', function () {
    const evs = day(new AnomalyAlarms({}, () => T0), true);
    expect(announced(evs)).to.deep.equal([]);
    expect(evs.filter((e) => e.alarmId.endsWith('/zone1_sp'))).to.deep.equal([]);
  });

  it('the same move with no setpoint change is one alarm (and one with inputs: [] or settleMs: 0)', function () {
    const heater = (evs: AlarmEvent[]): AlarmEvent[] => announced(evs).filter((e) => e.alarmId === `${ASSET}/zone1_heater_kw`);
    expect(heater(day(new AnomalyAlarms({}, () => T0), false))).to.have.length(1);
    expect(heater(day(new AnomalyAlarms({ inputs: [] }, () => T0), true))).to.have.length(1);
    expect(heater(day(new AnomalyAlarms({ settleMs: 0 }, () => T0), true))).to.have.length(1);
  });

  it('after the window the tag is judged against the level it settled at: a later step alarms', function () {
    const a = new AnomalyAlarms({ settleMs: 300_000 }, () => T0);
    const g = gauss(4);
    const evs: AlarmEvent[] = [];
    for (let i = 0; i < 1800; i++) {
      evs.push(...a.push(rd(ASSET, 'zone1_sp', i, i < 600 ? 190 : 198)));
      const move = (i < 600 ? 0 : 15 * (1 - Math.exp(-(i - 600) / 40))) + (i >= 1400 ? 15 : 0);
      evs.push(...a.push(rd(ASSET, 'zone1_heater_kw', i, 5 + g() + move)));
    }
    const raised = announced(evs);
    expect(raised).to.have.length(1);
    expect(raised[0].startTsMs).to.be.within(at(1400), at(1410));
  });

  it('AnomalyDetector.relearn: nothing is unusual while re-learning, and the level follows the new value', function () {
    const d = new AnomalyDetector();
    const g = gauss(6);
    let anomalies = 0;
    for (let i = 0; i < 1200; i++) {
      d.relearn(i >= 600 && i < 700);
      const o = d.step(at(i), 50 + g() + (i >= 600 ? 20 : 0));
      if (o.anomalous || o.unusual) anomalies++;
      if (i === 699) expect(o.predicted).to.be.within(68.5, 71.5);
    }
    expect(anomalies).to.equal(0);
  });
});

describe('consequential alarms: one alarm per process-change episode of an asset', function () {
  /** Tags of `assets` (σ 1 each) that all step by 15 σ at 600 s for 400 s, then return: one process change per asset. */
  function episode(a: AnomalyAlarms, assets: string[], tags = ['pressure', 'power', 'current', 'quality']): AlarmEvent[] {
    const g = gauss(8);
    const out: AlarmEvent[] = [];
    for (let i = 0; i < 1400; i++) {
      for (const asset of assets) {
        tags.forEach((tag, k) => out.push(...a.push(rd(asset, tag, i, 20 * (k + 1) + g() + (i >= 600 && i < 1000 ? 15 : 0)))));
      }
    }
    return out;
  }

  it('four tags of one asset moving together: one annunciated alarm, three recorded as its consequences', function () {
    const evs = episode(new AnomalyAlarms({}, () => T0), [ASSET]);
    const raised = evs.filter((e) => e.kind === 'raised');
    const head = announced(evs);
    expect(head).to.have.length(1);
    expect(head[0].cause?.kind).to.equal('process-change');
    const rest = raised.filter((e) => !e.annunciated);
    expect(rest).to.have.length(3);
    for (const e of rest) {
      expect(e).to.include({ suppressedBy: head[0].alarmId, state: 'suppressed-by-design' });
      expect(e.cause?.kind).to.equal('process-change');
    }
    // the head's clearing lists them
    const cleared = evs.find((e) => e.kind === 'cleared' && e.alarmId === head[0].alarmId);
    expect(cleared?.consequential).to.have.members(rest.map((e) => e.alarmId));
  });

  it('groupConsequential off: four alarms', function () {
    expect(announced(episode(new AnomalyAlarms({ groupConsequential: false }, () => T0), [ASSET]))).to.have.length(4);
  });

  it('two assets are two episodes: one alarm each', function () {
    const other = 'acme/plant1/line1/cutter';
    const head = announced(episode(new AnomalyAlarms({}, () => T0), [ASSET, other]));
    expect(head.map((e) => e.alarmId.split('/').slice(0, -1).join('/')).sort()).to.deep.equal([other, ASSET].sort());
  });

  it('manager: a consequential episode is recorded, not annunciated, for that episode only', function () {
    const m = new AlarmManager({
      now: () => T0,
      defaults: { onDelayMs: 0, offDelayMs: 0 },
      consequentialOf: (id, startTsMs) => (id === 'l/a/y' && startTsMs < at(10) ? 'l/a/x' : undefined),
    });
    const first = m.update('l/a/y', 2, at(1));
    expect(first).to.have.length(1);
    expect(first[0]).to.include({ kind: 'raised', annunciated: false, suppressedBy: 'l/a/x', state: 'suppressed-by-design' });
    expect(m.rates(at(1)).total.count).to.equal(0);
    const cleared = m.update('l/a/y', 0, at(2));
    expect(cleared[0]).to.include({ kind: 'cleared', suppressedBy: 'l/a/x' });
    expect(m.stateOfId('l/a/y')).to.equal('normal');
    const second = m.update('l/a/y', 2, at(20));
    expect(second[0]).to.include({ kind: 'raised', annunciated: true, state: 'unack-active' });
    expect(second[0].suppressedBy).to.equal(undefined);
  });
});

describe('twin-alarm settings for known inputs and grouping (nodes/twin-alarm/alarm-def.ts)', function () {
  it('knownInputs, settleMs and groupConsequential pass through; blank keeps the runtime defaults; a negative time is refused', function () {
    const base = { id: 'n', type: 'twin-alarm', z: '', name: '' };
    expect(configFromDef({ ...base, knownInputs: 'sp_*, recipe', settleMs: '300000', groupConsequential: false })).to.include({
      settleMs: 300_000,
      groupConsequential: false,
    });
    expect(configFromDef({ ...base, knownInputs: 'sp_*, recipe' }).inputs).to.deep.equal(['sp_*', 'recipe']);
    // the earlier flow property name is still read
    expect(configFromDef({ ...base, inputs: 'sp_*' }).inputs).to.deep.equal(['sp_*']);
    const blank = configFromDef({ ...base, knownInputs: '', settleMs: '' });
    expect(blank).to.not.have.any.keys('inputs', 'settleMs', 'groupConsequential');
    expect(() => configFromDef({ ...base, settleMs: -1 })).to.throw(/settling time/);
  });
});

describe('classification: a counter among the related tags (runtime/drift/classify.ts)', function () {
  /** 600 s of a flagged tag with a change at 300 s, three quiet related tags (σ 1) and a totaliser. */
  function input(flagged: (i: number, noise: number) => number): Parameters<typeof classifyChange>[0] {
    const g = gauss(12);
    const series = (f: (i: number) => number) => Array.from({ length: 600 }, (_, i) => ({ tsMs: at(i), value: f(i) }));
    return {
      tag: 'zone1_temp',
      window: series((i) => flagged(i, g())),
      changeTsMs: at(300),
      related: [
        ...['a', 'b', 'c'].map((tag, k) => ({ tag, window: series(() => 10 * (k + 1) + g()) })),
        { tag: 'energy_kwh', window: series((i) => 1000 + 0.02 * i) },
      ],
    };
  }

  it('a drift of one sensor stays a sensor drift: the totaliser is monotonic, so it cannot corroborate', function () {
    const c = classifyChange(input((i, n) => 200 + n + (i >= 300 ? 8 : 0)));
    expect(c).to.include({ kind: 'sensor-fault', faultType: 'drift' });
    const energy = c.evidence.related.find((r) => r.tag === 'energy_kwh');
    expect(energy).to.include({ usable: false, moved: false });
    expect(energy?.unusable).to.match(/monotonic/);
  });

  it('a spike stays a spike: the totaliser is far from its earlier level at every time, which is no outlier', function () {
    const c = classifyChange(input((i, n) => 200 + n + (i === 310 ? 30 : 0)));
    expect(c).to.include({ kind: 'sensor-fault', faultType: 'spike' });
  });
});
