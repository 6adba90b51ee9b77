import { expect } from 'chai';
import fc from 'fast-check';
import type { EnvelopeConfig, EnvelopeViolationCode } from '../../runtime/model/control.js';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import {
  checkEnvelope,
  envelopeInputKeys,
  envelopeVersion,
  readingKey,
  validateEnvelope,
  type ChangeRequest,
} from '../../runtime/control/envelope.js';
import { MAX_RAMP_STEPS, planRamp, requiredGapMs } from '../../runtime/control/ramp.js';

const ASSET = 'acme/plant1/extrusion/line1/extruder';
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A raw config as the editor saves it: numbers as strings, interlocks as a list, inputTags as text. */
function rawConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'abc',
    type: 'twin-envelope',
    name: 'zone 3',
    asset: ASSET,
    tag: 'zone3_sp',
    unit: 'degC',
    lowLimit: '200',
    highLimit: '260',
    maxStep: '5',
    rateUpPerMin: '2',
    rateDownPerMin: '4',
    minDwellMs: '60000',
    maxInputAgeMs: '30000',
    minQuality: 'good',
    ramp: true,
    interlocks: [
      { tag: 'mode', op: '==', value: '1' },
      { tag: 'alarm', op: '==', value: 0 },
    ],
    inputTags: 'melt_temp, other/asset/pressure',
    ...over,
  };
}
const ENV = validateEnvelope(rawConfig());

function rd(tag: string, value: number, ageMs = 1_000, extra: Partial<Reading> = {}, asset = ASSET): Reading {
  return { asset, tag, value, tsMs: NOW - ageMs, quality: 'good', source: 'test', ...extra };
}
/** Every input fresh and good, mode AUTO, no alarm, setpoint at 250. */
function readings(...over: Reading[]): Map<string, Reading> {
  const m = new Map<string, Reading>();
  for (const r of [
    rd('zone3_sp', 250),
    rd('mode', 1),
    rd('alarm', 0),
    rd('melt_temp', 231),
    rd('pressure', 120, 1_000, {}, 'other/asset'),
    ...over,
  ]) {
    m.set(readingKey(r.asset, r.tag), r);
  }
  return m;
}
function req(over: Partial<ChangeRequest> = {}): ChangeRequest {
  return { fromValue: 250, toValue: 252, nowMs: NOW, readings: readings(), scope: 'step', ...over };
}
function codes(env: EnvelopeConfig, r: ChangeRequest): EnvelopeViolationCode[] {
  return checkEnvelope(env, r).violations.map((v) => v.code);
}

describe('control envelope: validateEnvelope', () => {
  it('turns an editor config (numbers as strings) into an EnvelopeConfig with only its own fields', () => {
    expect(ENV).to.deep.equal({
      asset: ASSET,
      tag: 'zone3_sp',
      unit: 'degC',
      lowLimit: 200,
      highLimit: 260,
      maxStep: 5,
      rateUpPerMin: 2,
      rateDownPerMin: 4,
      minDwellMs: 60000,
      maxInputAgeMs: 30000,
      minQuality: 'good',
      ramp: true,
      interlocks: [
        { tag: 'mode', op: '==', value: 1 },
        { tag: 'alarm', op: '==', value: 0 },
      ],
      inputTags: ['melt_temp', 'other/asset/pressure'],
    });
  });

  it('defaults: no interlocks or inputs, minQuality good, ramp off; no unit when blank', () => {
    const env = validateEnvelope(rawConfig({ interlocks: undefined, inputTags: '', minQuality: '', ramp: undefined, unit: ' ' }));
    expect(env.interlocks).to.deep.equal([]);
    expect(env.inputTags).to.deep.equal([]);
    expect(env.minQuality).to.equal('good');
    expect(env.ramp).to.equal(false);
    expect(env).to.not.have.property('unit');
  });

  it('accepts interlocks as JSON text, an interlock on another asset, and ramp "false"', () => {
    const env = validateEnvelope(rawConfig({ interlocks: '[{"tag":"line/estop","op":"!=","value":1}]', ramp: 'false' }));
    expect(env.interlocks).to.deep.equal([{ asset: 'line', tag: 'estop', op: '!=', value: 1 }]);
    expect(env.ramp).to.equal(false);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['asset missing', { asset: '' }, /envelope asset: is required/],
    ['asset ending in /', { asset: 'a/b/' }, /envelope asset: "a\/b\/" must not start or end with "\/"/],
    ['tag missing', { tag: undefined }, /envelope tag: is required/],
    ['tag with a slash', { tag: 'a/b' }, /envelope tag: .*without "\/"/],
    ['lowLimit not numeric', { lowLimit: 'abc' }, /envelope lowLimit: must be a number, not "abc"/],
    ['highLimit missing', { highLimit: '' }, /envelope highLimit: is required/],
    ['low not below high', { lowLimit: '260' }, /envelope lowLimit: 260 must be below highLimit 260/],
    ['maxStep 0', { maxStep: '0' }, /envelope maxStep: must be > 0, not 0/],
    ['maxStep negative', { maxStep: -1 }, /envelope maxStep: must be > 0/],
    ['rateUpPerMin 0', { rateUpPerMin: 0 }, /envelope rateUpPerMin: must be > 0/],
    ['rateDownPerMin negative', { rateDownPerMin: '-2' }, /envelope rateDownPerMin: must be > 0/],
    ['minDwellMs negative', { minDwellMs: -1 }, /envelope minDwellMs: must be ≥ 0/],
    ['maxInputAgeMs 0', { maxInputAgeMs: 0 }, /envelope maxInputAgeMs: must be > 0/],
    ['minQuality bad', { minQuality: 'bad' }, /envelope minQuality: must be good or uncertain, not "bad"/],
    ['ramp not boolean', { ramp: 'yes' }, /envelope ramp: must be true or false/],
    ['interlocks not a list', { interlocks: { tag: 'x' } }, /envelope interlocks: must be a list/],
    ['interlocks bad JSON', { interlocks: '[{' }, /envelope interlocks: is not a JSON list/],
    [
      'interlock op',
      { interlocks: [{ tag: 'mode', op: '=', value: 1 }] },
      /envelope interlocks\[0\]\.op: must be one of == != < <= > >=, not "="/,
    ],
    ['interlock tag empty', { interlocks: [{ tag: ' ', op: '==', value: 1 }] }, /envelope interlocks\[0\]\.tag: is required/],
    [
      'interlock value',
      { interlocks: [{ tag: 'mode', op: '==', value: 'AUTO' }] },
      /envelope interlocks\[0\]\.value: must be a number, not "AUTO"/,
    ],
    ['inputTags empty entry', { inputTags: 'a,,b' }, /envelope inputTags\[1\]: "" is not a tag/],
    ['inputTags not text', { inputTags: 5 }, /envelope inputTags: must be a comma-separated list/],
  ];
  for (const [what, over, msg] of invalid) {
    it(`refuses ${what} with a BAD_CONFIG error naming the field`, () => {
      let err: unknown;
      try {
        validateEnvelope(rawConfig(over));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(TwinError);
      expect((err as TwinError).code).to.equal('BAD_CONFIG');
      expect((err as TwinError).message).to.match(msg);
    });
  }
});

describe('control envelope: envelopeVersion', () => {
  it('is 16 hex characters and does not depend on key order or editor-only fields', () => {
    const v = envelopeVersion(ENV);
    expect(v).to.match(/^[0-9a-f]{16}$/);
    const reversed = Object.fromEntries(Object.entries(rawConfig()).reverse());
    expect(envelopeVersion(validateEnvelope(reversed))).to.equal(v);
    expect(envelopeVersion(validateEnvelope(rawConfig({ name: 'renamed', x: 10 })))).to.equal(v);
  });

  it('changes when any field changes', () => {
    const v = envelopeVersion(ENV);
    const changes: Record<string, unknown>[] = [
      { asset: 'other' },
      { tag: 'zone2_sp' },
      { unit: 'K' },
      { lowLimit: 199 },
      { highLimit: 261 },
      { maxStep: 5.5 },
      { rateUpPerMin: 3 },
      { rateDownPerMin: 3 },
      { minDwellMs: 60001 },
      { maxInputAgeMs: 29000 },
      { minQuality: 'uncertain' },
      { ramp: false },
      { interlocks: [{ tag: 'mode', op: '==', value: 2 }] },
      { inputTags: 'melt_temp' },
    ];
    const seen = new Set([v]);
    for (const c of changes) {
      const w = envelopeVersion(validateEnvelope(rawConfig(c)));
      expect(seen.has(w), JSON.stringify(c)).to.equal(false);
      seen.add(w);
    }
  });
});

describe('control envelope: checkEnvelope', () => {
  it('passes a small step with fresh good inputs and interlocks holding', () => {
    const check = checkEnvelope(ENV, req({ lastChangeTsMs: NOW - 120_000 }));
    expect(check).to.deep.equal({ ok: true, version: envelopeVersion(ENV), checkedTsMs: NOW, violations: [] });
  });

  it('ABOVE_HIGH and BELOW_LOW with the value, unit and limit', () => {
    const hi = checkEnvelope(ENV, req({ fromValue: 258, toValue: 262 }));
    expect(hi.ok).to.equal(false);
    expect(hi.violations).to.deep.equal([{ code: 'ABOVE_HIGH', tag: 'zone3_sp', message: 'zone3_sp: 262 degC above the high limit 260' }]);
    const lo = checkEnvelope(ENV, req({ fromValue: 201, toValue: 199.5 }));
    expect(lo.violations.map((v) => v.message)).to.deep.equal(['zone3_sp: 199.5 degC below the low limit 200']);
  });

  it('limits are inclusive: exactly on a limit is allowed', () => {
    expect(codes(ENV, req({ fromValue: 258, toValue: 260 }))).to.deep.equal([]);
    expect(codes(ENV, req({ fromValue: 202, toValue: 200 }))).to.deep.equal([]);
  });

  it('STEP_TOO_LARGE for one write above maxStep, and for a change when ramping is off', () => {
    expect(codes(ENV, req({ toValue: 255.5, scope: 'step' }))).to.deep.equal(['STEP_TOO_LARGE']);
    expect(codes(ENV, req({ toValue: 255.5, scope: 'change' }))).to.deep.equal([]);
    const noRamp = { ...ENV, ramp: false };
    const c = checkEnvelope(noRamp, req({ toValue: 255.5, scope: 'change' }));
    expect(c.violations.map((v) => v.code)).to.deep.equal(['STEP_TOO_LARGE']);
    expect(c.violations[0]!.message).to.equal(
      'zone3_sp: step of 5.5 degC (250 → 255.5) is larger than the largest single step 5 and ramping is off',
    );
    expect(codes(ENV, req({ toValue: 255, scope: 'step' }))).to.deep.equal([]);
  });

  it('forgives a part per million on the step size (float32 plant values), never on the limits', () => {
    const f32 = Math.fround(249.9); // 249.8999939…
    expect(codes(ENV, req({ fromValue: f32, toValue: 254.9, lastChangeTsMs: NOW - 150_000 }))).to.deep.equal([]);
    expect(codes(ENV, req({ fromValue: 249.9, toValue: 254.902 }))).to.deep.equal(['STEP_TOO_LARGE']);
    expect(codes(ENV, req({ fromValue: 255.1, toValue: 260 + 1e-9 }))).to.deep.equal(['ABOVE_HIGH']);
  });

  it('STEP_TOO_LARGE when a ramp would need too many steps', () => {
    const tiny = { ...ENV, maxStep: 1e-6, lowLimit: 0 };
    expect(codes(tiny, req({ toValue: 251, scope: 'change' }))).to.deep.equal(['STEP_TOO_LARGE']);
    expect(1 / 1e-6).to.be.greaterThan(MAX_RAMP_STEPS);
  });

  it('DWELL when the last change is too recent; none when no change is known', () => {
    const c = checkEnvelope(ENV, req({ lastChangeTsMs: NOW - 45_000, toValue: 250.1 }));
    expect(c.violations).to.deep.equal([
      { code: 'DWELL', tag: 'zone3_sp', message: 'zone3_sp: last change 45 s ago, the minimum dwell is 60 s' },
    ]);
    expect(codes(ENV, req({ lastChangeTsMs: undefined, toValue: 250.1 }))).to.deep.equal([]);
    expect(codes(ENV, req({ lastChangeTsMs: NOW - 60_000, toValue: 250.1 }))).to.deep.equal([]);
  });

  it('RATE_UP and RATE_DOWN use the rate of the direction (up 2/min, down 4/min)', () => {
    // +4 up needs 120 s; −4 down needs 60 s (= the dwell). 90 s after the last change:
    const up = checkEnvelope(ENV, req({ toValue: 254, lastChangeTsMs: NOW - 90_000 }));
    expect(up.violations).to.deep.equal([
      { code: 'RATE_UP', tag: 'zone3_sp', message: 'zone3_sp: raising by 4 degC needs 120 s at 2 degC/min up; last change 90 s ago' },
    ]);
    expect(codes(ENV, req({ toValue: 246, lastChangeTsMs: NOW - 90_000 }))).to.deep.equal([]);
    expect(codes(ENV, req({ toValue: 245, lastChangeTsMs: NOW - 70_000 }))).to.deep.equal(['RATE_DOWN']);
    expect(codes(ENV, req({ toValue: 254, lastChangeTsMs: NOW - 120_000 }))).to.deep.equal([]);
  });

  it('for a ramped change, pacing is checked on its first step', () => {
    // 250 → 260 in two steps of 5; a step of 5 up needs 150 s at 2/min.
    expect(codes(ENV, req({ toValue: 260, scope: 'change', lastChangeTsMs: NOW - 150_000 }))).to.deep.equal([]);
    expect(codes(ENV, req({ toValue: 260, scope: 'change', lastChangeTsMs: NOW - 140_000 }))).to.deep.equal(['RATE_UP']);
  });

  it('a change of 0 needs no dwell', () => {
    expect(codes(ENV, req({ toValue: 250, lastChangeTsMs: NOW - 1 }))).to.deep.equal([]);
  });

  it('INTERLOCK names the condition and the value found', () => {
    const c = checkEnvelope(ENV, req({ readings: readings(rd('mode', 0), rd('alarm', 1)) }));
    expect(c.violations).to.deep.equal([
      { code: 'INTERLOCK', tag: 'mode', message: 'mode: interlock mode == 1 does not hold (0)' },
      { code: 'INTERLOCK', tag: 'alarm', message: 'alarm: interlock alarm == 0 does not hold (1)' },
    ]);
  });

  it('every interlock operator', () => {
    const cases: Array<[string, number, boolean]> = [
      ['==', 1, true],
      ['==', 2, false],
      ['!=', 2, true],
      ['!=', 1, false],
      ['<', 2, true],
      ['<', 1, false],
      ['<=', 1, true],
      ['<=', 0, false],
      ['>', 0, true],
      ['>', 1, false],
      ['>=', 1, true],
      ['>=', 2, false],
    ];
    for (const [op, value, ok] of cases) {
      const env = validateEnvelope(rawConfig({ interlocks: [{ tag: 'mode', op, value }] }));
      expect(checkEnvelope(env, req()).ok, `mode(1) ${op} ${value}`).to.equal(ok);
    }
  });

  it('MISSING_INPUT for the setpoint, an interlock tag and an input tag without a reading', () => {
    const m = readings();
    m.delete(readingKey(ASSET, 'zone3_sp'));
    m.delete(readingKey(ASSET, 'mode'));
    m.delete('other/asset/pressure');
    const c = checkEnvelope(ENV, req({ readings: m }));
    expect(c.violations).to.deep.equal([
      { code: 'MISSING_INPUT', tag: 'zone3_sp', message: 'zone3_sp: no reading (needed as the setpoint)' },
      { code: 'MISSING_INPUT', tag: 'mode', message: 'mode: no reading (needed as an interlock)' },
      { code: 'MISSING_INPUT', tag: 'other/asset/pressure', message: 'other/asset/pressure: no reading (needed as a decision input)' },
    ]);
  });

  it('STALE_INPUT for old readings and for readings from the future', () => {
    const c = checkEnvelope(ENV, req({ readings: readings(rd('melt_temp', 231, 95_000), rd('mode', 1, -60_000)) }));
    expect(c.violations).to.deep.equal([
      { code: 'STALE_INPUT', tag: 'mode', message: 'mode: reading time 60 s in the future (clock wrong?)' },
      { code: 'STALE_INPUT', tag: 'melt_temp', message: 'melt_temp: reading 95 s old (limit 30 s)' },
    ]);
    // exactly at the age limit is still fresh
    expect(codes(ENV, req({ readings: readings(rd('melt_temp', 231, 30_000)) }))).to.deep.equal([]);
  });

  it('BAD_INPUT for quality below minQuality, with its reason', () => {
    const c = checkEnvelope(ENV, req({ readings: readings(rd('zone3_sp', 250, 1_000, { quality: 'uncertain', qualityReason: 'spike' })) }));
    expect(c.violations).to.deep.equal([
      { code: 'BAD_INPUT', tag: 'zone3_sp', message: 'zone3_sp: reading quality uncertain, spike (needs good)' },
    ]);
    const lax = { ...ENV, minQuality: 'uncertain' as const };
    expect(codes(lax, req({ readings: readings(rd('zone3_sp', 250, 1_000, { quality: 'uncertain' })) }))).to.deep.equal([]);
    expect(codes(lax, req({ readings: readings(rd('zone3_sp', 250, 1_000, { quality: 'bad' })) }))).to.deep.equal(['BAD_INPUT']);
  });

  it('BAD_INPUT for a non-finite target (NaN would otherwise pass every comparison)', () => {
    expect(codes(ENV, req({ toValue: Number.NaN }))).to.deep.equal(['BAD_INPUT']);
    expect(codes(ENV, req({ fromValue: Number.POSITIVE_INFINITY }))).to.deep.equal(['BAD_INPUT']);
  });

  it('collects all violations at once', () => {
    const c = checkEnvelope(
      ENV,
      req({
        toValue: 270,
        lastChangeTsMs: NOW - 10_000,
        readings: readings(rd('mode', 0, 120_000), rd('alarm', 0, 1_000, { quality: 'bad' })),
      }),
    );
    expect(c.ok).to.equal(false);
    expect(c.violations.map((v) => v.code)).to.have.members([
      'ABOVE_HIGH',
      'STEP_TOO_LARGE',
      'DWELL',
      'RATE_UP',
      'STALE_INPUT',
      'BAD_INPUT',
      'INTERLOCK',
    ]);
  });

  it('property: a check that passes means limits, step, pacing, interlocks, freshness and quality all hold', () => {
    // Biased towards passing inputs, so that many generated checks pass and are examined.
    const mostly = <T>(usual: T, ...rare: T[]) =>
      fc.oneof({ arbitrary: fc.constant(usual), weight: 12 }, ...rare.map((r) => ({ arbitrary: fc.constant(r), weight: 1 })));
    const reading = (tag: string, usual: number, asset = ASSET) =>
      fc.record({
        asset: fc.constant(asset),
        tag: fc.constant(tag),
        value: mostly(usual, usual + 1, usual - 1),
        source: fc.constant('prop'),
        tsMs: fc.oneof(
          { arbitrary: fc.integer({ min: NOW - 30_000, max: NOW }), weight: 10 },
          { arbitrary: fc.integer({ min: NOW - 90_000, max: NOW + 20_000 }), weight: 2 },
        ),
        quality: mostly<Reading['quality']>('good', 'uncertain', 'bad'),
      });
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 20 });
    let passed = 0;
    fc.assert(
      fc.property(
        fc.double({ min: 190, max: 270, noNaN: true }),
        fc.double({ min: -15, max: 15, noNaN: true }),
        maybe(fc.integer({ min: NOW - 400_000, max: NOW })),
        fc.constantFrom<'change' | 'step'>('change', 'step'),
        fc.boolean(),
        fc.tuple(
          maybe(reading('zone3_sp', 250)),
          maybe(reading('mode', 1)),
          maybe(reading('alarm', 0)),
          maybe(reading('melt_temp', 231)),
          maybe(reading('pressure', 120, 'other/asset')),
        ),
        (fromValue, delta, lastChangeTsMs, scope, ramp, rs) => {
          const toValue = fromValue + delta;
          const env = { ...ENV, ramp };
          const m = new Map<string, Reading>();
          for (const r of rs) if (r) m.set(readingKey(r.asset, r.tag), r as Reading);
          const check = checkEnvelope(env, { fromValue, toValue, nowMs: NOW, lastChangeTsMs, readings: m, scope });
          if (!check.ok) return;
          passed++;
          expect(toValue).to.be.within(env.lowLimit, env.highLimit);
          const size = Math.abs(toValue - fromValue);
          if (scope === 'step' || !ramp) expect(size).to.be.at.most(env.maxStep * (1 + 1e-4));
          if (lastChangeTsMs !== undefined && size > 0) {
            expect(NOW - lastChangeTsMs).to.be.at.least(env.minDwellMs);
            const first = scope === 'change' && ramp && size > env.maxStep ? size / Math.ceil(size / env.maxStep) : size;
            const rate = toValue > fromValue ? env.rateUpPerMin : env.rateDownPerMin;
            expect(NOW - lastChangeTsMs).to.be.at.least((first / rate) * 60_000 * (1 - 1e-4));
          }
          for (const r of rs) {
            expect(r, 'every input present').to.not.equal(undefined);
            expect(NOW - r!.tsMs).to.be.within(-5_000, env.maxInputAgeMs);
            expect(r!.quality).to.equal('good');
          }
          expect(rs[1]!.value).to.equal(1);
          expect(rs[2]!.value).to.equal(0);
        },
      ),
      { numRuns: 3000 },
    );
    expect(passed, 'passing checks generated').to.be.greaterThan(100);
  });

  it('envelopeInputKeys lists the setpoint, interlock tags and inputTags', () => {
    expect([...envelopeInputKeys(ENV)]).to.deep.equal([
      `${ASSET}/zone3_sp`,
      `${ASSET}/mode`,
      `${ASSET}/alarm`,
      `${ASSET}/melt_temp`,
      'other/asset/pressure',
    ]);
  });
});

describe('control envelope: planRamp', () => {
  const env = { maxStep: 5, minDwellMs: 60_000, rateUpPerMin: 2, rateDownPerMin: 4 };

  it('a change of 0 is an empty plan; a small change is one step now', () => {
    expect(planRamp(env, 250, 250, NOW)).to.deep.equal([]);
    expect(planRamp(env, 250, 253, NOW)).to.deep.equal([{ value: 253, atMs: NOW }]);
  });

  it('equal steps, paced by the rate of the direction, ending exactly at the target', () => {
    // 250 → 262: 3 steps of 4; up 2/min → 120 s apart
    expect(planRamp(env, 250, 262, NOW)).to.deep.equal([
      { value: 254, atMs: NOW },
      { value: 258, atMs: NOW + 120_000 },
      { value: 262, atMs: NOW + 240_000 },
    ]);
    // down 4/min: steps of 4 need 60 s = the dwell
    expect(planRamp(env, 262, 250, NOW).map((s) => s.atMs - NOW)).to.deep.equal([0, 60_000, 120_000]);
    // down, small steps: the dwell (60 s) governs, not the rate (2 / 4 per min = 30 s)
    expect(planRamp({ ...env, maxStep: 2 }, 254, 250, 0).map((s) => s.atMs)).to.deep.equal([0, 60_000]);
  });

  it('rounds spacing up to whole ms, so integer clocks never fall short', () => {
    const p = planRamp({ maxStep: 1, minDwellMs: 0, rateUpPerMin: 7, rateDownPerMin: 7 }, 0, 2, 0);
    expect(p.map((s) => s.atMs)).to.deep.equal([0, Math.ceil(60_000 / 7)]);
  });

  it('property: every plan stays within limits, steps ≤ maxStep, respects spacing, ends exactly at the target', () => {
    const envArb = fc.record({
      lowLimit: fc.double({ min: -1e4, max: 1e4, noNaN: true }),
      span: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
      maxStepFrac: fc.double({ min: 1e-3, max: 1, noNaN: true }),
      minDwellMs: fc.integer({ min: 0, max: 600_000 }),
      rateUpPerMin: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
      rateDownPerMin: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
    });
    fc.assert(
      fc.property(
        envArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 2e12 }),
        (e, a, b, startMs) => {
          const highLimit = e.lowLimit + e.span;
          const pacing = {
            maxStep: e.span * e.maxStepFrac,
            minDwellMs: e.minDwellMs,
            rateUpPerMin: e.rateUpPerMin,
            rateDownPerMin: e.rateDownPerMin,
          };
          const from = Math.min(highLimit, e.lowLimit + a * e.span);
          const to = Math.min(highLimit, e.lowLimit + b * e.span);
          if (Math.abs(to - from) / pacing.maxStep > MAX_RAMP_STEPS) return; // refused by the check, not planned
          const plan = planRamp(pacing, from, to, startMs);
          if (from === to) {
            expect(plan).to.deep.equal([]);
            return;
          }
          expect(plan.length).to.be.greaterThan(0);
          expect(plan[plan.length - 1]!.value).to.equal(to);
          expect(plan[0]!.atMs).to.equal(startMs);
          let prev = from;
          let prevAt: number | undefined;
          for (const s of plan) {
            expect(s.value).to.be.within(e.lowLimit, highLimit);
            expect(Math.abs(s.value - prev)).to.be.at.most(pacing.maxStep);
            expect(Math.sign(s.value - prev)).to.equal(Math.sign(to - from)); // monotonic, no overshoot
            if (prevAt !== undefined) {
              expect(Number.isInteger(s.atMs - prevAt)).to.equal(true);
              expect(s.atMs - prevAt).to.be.at.least(requiredGapMs(pacing, prev, s.value));
            }
            prev = s.value;
            prevAt = s.atMs;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: each step of a plan passes checkEnvelope as a single write at its due time', () => {
    fc.assert(
      fc.property(fc.double({ min: 200, max: 260, noNaN: true }), fc.double({ min: 200, max: 260, noNaN: true }), (from, to) => {
        const plan = planRamp(ENV, from, to, NOW);
        let prev = from;
        let last: number | undefined = NOW - ENV.minDwellMs * 10;
        for (const s of plan) {
          const m = readings(rd('zone3_sp', prev, 0, { tsMs: s.atMs }));
          for (const k of ['mode', 'alarm', 'melt_temp']) m.set(`${ASSET}/${k}`, { ...m.get(`${ASSET}/${k}`)!, tsMs: s.atMs });
          m.set('other/asset/pressure', { ...m.get('other/asset/pressure')!, tsMs: s.atMs });
          const check = checkEnvelope(ENV, {
            fromValue: prev,
            toValue: s.value,
            nowMs: s.atMs,
            lastChangeTsMs: last,
            readings: m,
            scope: 'step',
          });
          expect(check.violations, `${prev} → ${s.value}`).to.deep.equal([]);
          prev = s.value;
          last = s.atMs;
        }
      }),
      { numRuns: 500 },
    );
  });
});
