/**
 * RUL model files of every kind: write (Infinity-safe), read back with identical estimates,
 * refuse broken files with TwinError('MODEL') naming the field; the dispatcher adds the training
 * domain's checks. Models are fitted on 20 engines of C-MAPSS FD001 (test/fixtures/cmapss).
 */
import { expect } from 'chai';
import { readCmapss } from '../../runtime/maintenance/cmapss.js';
import type { UnitHistory } from '../../runtime/maintenance/health-index.js';
import {
  estimateRulAny,
  fitRulAny,
  modelChannels,
  modelWindow,
  requiredChannels,
  rulModelFromJson,
  rulModelFromText,
  rulModelToJson,
  type AnyRulModel,
} from '../../runtime/maintenance/rul-json.js';
import { TwinError } from '../../runtime/model/errors.js';
import { CMAPSS_FD001 } from '../support/reference-data.js';

const CMAPSS_FILE = CMAPSS_FD001;
const HOUR = 3_600_000;
const CAP_MS = 125 * HOUR;

const truncate = (u: UnitHistory, rows: number): UnitHistory => ({ ...u, tsMs: u.tsMs.slice(0, rows), values: u.values.slice(0, rows) });

describe('maintenance: RUL model files (rul-json)', function () {
  this.timeout(30_000);
  let units: UnitHistory[];
  let train: UnitHistory[];
  let held: UnitHistory[];
  let sim: AnyRulModel;
  let ols: AnyRulModel;
  let trend: AnyRulModel;

  before(function () {
    units = readCmapss(CMAPSS_FILE, HOUR);
    train = units.slice(0, 20);
    held = units.slice(20, 25);
    sim = fitRulAny(train, { method: 'similarity', rulCapMs: CAP_MS, seed: 2 });
    ols = fitRulAny(train, { method: 'ols', rulCapMs: CAP_MS, seed: 2 });
    trend = fitRulAny(train, { method: 'trend', rulCapMs: CAP_MS, seed: 2 });
  });

  it('records the training domain: every channel, its range, the longest life', function () {
    const d = sim.domain!;
    expect(d.channels).to.deep.equal(units[0].channels);
    expect(d.units).to.equal(20);
    const s4 = d.channels.indexOf('s4');
    const all = train.flatMap((u) => u.values.map((r) => r[s4]));
    expect([d.min[s4], d.max[s4]]).to.deep.equal([Math.min(...all), Math.max(...all)]);
    expect(d.maxAgeMs).to.equal(Math.max(...train.map((u) => u.tsMs[u.tsMs.length - 1] - u.tsMs[0])));
    expect(modelChannels(sim)).to.deep.equal(units[0].channels);
    expect(requiredChannels(sim)).to.deep.equal((sim as { signals: { channels: string[] } }).signals.channels);
    expect(modelWindow(sim)).to.deep.equal({ rows: 60 });
    expect(modelWindow(ols)).to.deep.equal({ rows: 10 });
  });

  for (const kind of ['similarity', 'ols', 'trend'] as const) {
    it(`${kind}: a file round trip gives identical estimates; Infinity is written as a string`, function () {
      const m = { similarity: sim, ols, trend }[kind];
      const text = rulModelToJson(m);
      // the trend model marks its open-ended bands with null itself
      if (kind !== 'trend') expect(text).to.include('"upToMs": "Infinity"');
      if (kind !== 'trend') expect(text).not.to.match(/"upToMs": null/);
      const back = rulModelFromText(text, 'm.json');
      expect(back.kind).to.equal(m.kind);
      for (const u of held) {
        const h = truncate(u, Math.floor(u.values.length * 0.7));
        expect(estimateRulAny(back, h)).to.deep.equal(estimateRulAny(m, h));
      }
      // files written with plain JSON.stringify (Infinity -> null) read the same
      const plain = rulModelFromText(JSON.stringify(m));
      expect(estimateRulAny(plain, truncate(held[0], 100))).to.deep.equal(estimateRulAny(m, truncate(held[0], 100)));
    });
  }

  it('dispatches by kind and names the model in the estimate', function () {
    const h = truncate(held[1], 120);
    expect(estimateRulAny(sim, h).model).to.equal('rul-similarity');
    expect(estimateRulAny(ols, h).model).to.equal('rul-ols');
    expect(estimateRulAny(trend, h).model).to.equal('rul-trend');
    expect(modelWindow(trend)).to.deep.equal({ ms: (trend as unknown as { windowMs: number }).windowMs });
    expect(estimateRulAny(sim, h).rulMs).not.to.equal(estimateRulAny(ols, h).rulMs);
  });

  it('marks extrapolation uncertain: older than any training life, a channel beyond its range', function () {
    const h = truncate(held[2], 120);
    expect(estimateRulAny(sim, h).quality).to.equal('good');
    const old = { ...h, tsMs: h.tsMs.map((t, i) => (i === h.tsMs.length - 1 ? t + sim.domain!.maxAgeMs : t)) };
    const e1 = estimateRulAny(sim, old);
    expect(e1.quality).to.equal('uncertain');
    expect(e1.qualityReason).to.match(/beyond the longest training life/);
    const s11 = h.channels.indexOf('s11');
    const hot = {
      ...h,
      values: h.values.map((r, i) => (i === h.values.length - 1 ? r.map((v, c) => (c === s11 ? sim.domain!.max[s11] + 1 : v)) : r)),
    };
    const e2 = estimateRulAny(sim, hot);
    expect(e2.quality).to.equal('uncertain');
    expect(e2.qualityReason).to.match(/s11 = [\d.]+ outside the training range/);
    expect(estimateRulAny(sim, hot, 'bad').quality).to.equal('bad');
  });

  it('fitRulAny refuses an unknown method or no units', function () {
    expect(() => fitRulAny(train, { method: 'magic' as never, rulCapMs: CAP_MS })).to.throw(
      TwinError,
      /method must be one of similarity, ols, trend/,
    );
    expect(() => fitRulAny([], { method: 'ols', rulCapMs: CAP_MS })).to.throw(TwinError, /no training units/);
  });

  describe('a broken file: TwinError MODEL naming what is wrong', function () {
    const cases: Array<[string, (m: Record<string, any>) => unknown, RegExp]> = [
      ['not JSON', () => '{"kind":', /m\.json: not JSON/],
      ['an array', () => [], /not a JSON object/],
      ['unknown kind', (m) => ({ ...m, kind: 'rul-magic' }), /kind must be one of rul-similarity, rul-ols, rul-trend, got "rul-magic"/],
      ['future version', (m) => ({ ...m, version: 2 }), /rul-similarity version 2 is not supported/],
      ['cap missing', (m) => ({ ...m, rulCapMs: undefined }), /rulCapMs must be a number > 0/],
      ['hiCoef short', (m) => ({ ...m, hiCoef: [1, 2] }), /hiCoef has 2 entries, expected 15/],
      [
        'a NaN-ish coefficient',
        (m) => ({ ...m, hiCoef: m.hiCoef.map((v: number, i: number) => (i === 3 ? 'x' : v)) }),
        /hiCoef\[3\] is not a number/,
      ],
      ['empty library', (m) => ({ ...m, library: [] }), /library must be a non-empty list/],
      ['library ages', (m) => ({ ...m, library: [{ hi: [1, 2, 3], ageMs: [0, 1] }] }), /library\[0\]\.ageMs has 2 entries, expected 3/],
      [
        'band quantile',
        (m) => ({ ...m, bands: m.bands.map((b: object, i: number) => (i === 1 ? { ...b, q90Ms: null } : b)) }),
        /bands\[1\]\.q90Ms is not a finite number/,
      ],
      ['no bands', (m) => ({ ...m, bands: [] }), /bands must be a non-empty list/],
      ['signals std 0', (m) => ({ ...m, signals: { ...m.signals, std: m.signals.std.map(() => 0) } }), /signals\.std must be > 0/],
      ['options', (m) => ({ ...m, options: { ...m.options, matchRows: 0 } }), /options\.matchRows must be an integer >= 1/],
      [
        'domain columns',
        (m) => ({ ...m, domain: { ...m.domain, channels: [...m.domain.channels].reverse() } }),
        /signal 's2' is not column 4 of domain\.channels/,
      ],
    ];
    for (const [what, make, re] of cases) {
      it(what, function () {
        const base = JSON.parse(rulModelToJson(sim)) as Record<string, any>;
        const bent = make(base);
        expect(() => rulModelFromText(typeof bent === 'string' ? bent : JSON.stringify(bent), 'm.json'))
          .to.throw(TwinError, re)
          .with.property('code', 'MODEL');
      });
    }
    it('an ols model with the wrong number of coefficients', function () {
      const base = JSON.parse(rulModelToJson(ols)) as Record<string, any>;
      expect(() => rulModelFromJson({ ...base, coef: base.coef.slice(1) })).to.throw(TwinError, /coef has \d+ entries, expected \d+/);
      expect(() => rulModelFromJson({ ...JSON.parse(rulModelToJson(sim)), regression: { kind: 'x' } })).to.throw(
        TwinError,
        /regression must be a 'rul-ols' model or null/,
      );
      const t = JSON.parse(rulModelToJson(trend)) as Record<string, any>;
      expect(() => rulModelFromJson({ ...t, hiCoef: [1] }, 't.json')).to.throw(TwinError, /t\.json: not a rul-trend v1 model/);
    });
  });
});
