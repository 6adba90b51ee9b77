// Authoritative inputs at the approval gate (runtime/control/gate-machine.ts, gate-input.ts): an
// envelope bound to one plant connection counts only readings received there; a reading dated more
// than GATE_MAX_FUTURE_MS ahead is refused, not preferred; bad news from the source is never hidden
// behind a reading dated ahead of it. Attack 1 of issue 13 in miniature: a failed sensor on the plant
// connection and a good reading of the same tag, dated 4 s ahead, from the broker.
import { expect } from 'chai';
import { GateMachine } from '../../runtime/control/gate-machine.js';
import { parseGateMessage } from '../../runtime/control/gate-input.js';
import type { GateEffect } from '../../runtime/control/gate-state.js';
import type { DecisionOutcome } from '../../runtime/control/gate-registry.js';
import { GATE_MAX_FUTURE_MS, type Reading } from '../../runtime/model/reading.js';
import { envelope, gateConfig, proposal, reading } from '../support/control-gate-fixtures.js';

const PLC = Object.freeze({ connection: 'plc-endpoint', item: 'ns=1;s=extruder.mode' });
const BROKER = Object.freeze({ connection: 'site-broker', item: 'acme/line1/extruder/mode' });
const T0 = 1_000_000;

function from(origin: Reading['origin'], r: Reading): Reading {
  return { ...r, origin };
}

/** Feed one reading at `nowMs`; the gate's reply to it. */
function feed(m: GateMachine, r: Reading, nowMs: number): DecisionOutcome {
  const out = m.handle({ kind: 'reading', reading: r, token: 1 }, nowMs);
  const reply = out.find((e): e is Extract<GateEffect, { kind: 'reply' }> => e.kind === 'reply');
  return reply!.outcome;
}

function violations(m: GateMachine, nowMs: number): string[] {
  return m.checkChange(proposal('p1', 200, 202, { nowMs }), nowMs).violations.map((v) => `${v.code} ${v.tag}`);
}

describe('approval gate: authoritative inputs', function () {
  const bound = () => new GateMachine(gateConfig({}, envelope({ source: 'plc-endpoint', inputTags: ['melt_temp'] })));

  it("counts a reading only when it came from the envelope's source connection", function () {
    const m = bound();
    const o = feed(m, from(BROKER, reading('mode', 1, T0)), T0);
    expect(o.ok).to.equal(true);
    expect(o.ignored).to.match(
      /mode from site-broker \(acme\/line1\/extruder\/mode\) ignored: the envelope reads its inputs from plc-endpoint/,
    );
    expect(feed(m, reading('barrel_sp', 200, T0), T0).ignored).to.match(/from no connection/); // no origin at all
    expect(violations(m, T0)).to.include.members(['MISSING_INPUT mode', 'MISSING_INPUT barrel_sp']);
    expect(feed(m, from(PLC, reading('mode', 1, T0)), T0).ignored).to.equal(undefined);
    expect(violations(m, T0)).to.not.include('MISSING_INPUT mode');
  });

  it('a failed sensor on the source stays failed, whatever arrives from elsewhere newer and good (attack 1)', function () {
    const m = bound();
    for (const tag of ['mode', 'barrel_sp']) feed(m, from(PLC, reading(tag, tag === 'mode' ? 1 : 200, T0)), T0);
    feed(m, from(PLC, reading('melt_temp', 220, T0, 'bad')), T0);
    // the spoof: every 250 ms, dated 4 s ahead, on the broker
    for (let i = 0; i < 8; i++) {
      const nowMs = T0 + 250 * i;
      expect(feed(m, from(BROKER, reading('melt_temp', 220, nowMs + 4000)), nowMs).ignored).to.be.a('string');
    }
    expect(violations(m, T0 + 2000)).to.deep.equal(['BAD_INPUT melt_temp']);
  });

  it(`refuses a reading from the source dated more than ${GATE_MAX_FUTURE_MS} ms ahead, and keeps the one it had`, function () {
    const m = bound();
    feed(m, from(PLC, reading('melt_temp', 220, T0, 'bad')), T0);
    const o = feed(m, from(PLC, reading('melt_temp', 221, T0 + GATE_MAX_FUTURE_MS + 1)), T0);
    expect(o.ok).to.equal(false);
    expect(o.error).to.match(/melt_temp is dated 2 s in the future \(at most 2 s\): refused/);
    expect(m.state.readings.get('acme/line1/extruder/melt_temp')?.quality).to.equal('bad');
    // at the edge it counts
    expect(feed(m, from(PLC, reading('melt_temp', 221, T0 + GATE_MAX_FUTURE_MS)), T0).ok).to.equal(true);
    expect(m.state.readings.get('acme/line1/extruder/melt_temp')?.value).to.equal(221);
  });

  it('a reading dated a little ahead cannot freeze its tag: a bad one from the source after it still counts', function () {
    const m = bound();
    feed(m, from(PLC, reading('melt_temp', 220, T0 + 1500)), T0); // within the tolerance: kept
    feed(m, from(PLC, reading('melt_temp', 219, T0 + 500)), T0 + 500); // late and good: the newer one stays
    expect(m.state.readings.get('acme/line1/extruder/melt_temp')?.value).to.equal(220);
    feed(m, from(PLC, reading('melt_temp', 0, T0 + 600, 'bad')), T0 + 600); // late but bad: it counts
    expect(m.state.readings.get('acme/line1/extruder/melt_temp')?.quality).to.equal('bad');
  });

  it('without a source (pure runtime use) every reading counts, as before', function () {
    const m = new GateMachine(gateConfig({}, envelope()));
    expect(feed(m, from(BROKER, reading('mode', 1, T0)), T0).ignored).to.equal(undefined);
    expect(m.state.readings.has('acme/line1/extruder/mode')).to.equal(true);
  });

  it('parseGateMessage refuses a reading more than the tolerance ahead (before it reaches the machine)', function () {
    const r = reading('mode', 1, T0 + GATE_MAX_FUTURE_MS + 1000);
    expect(() => parseGateMessage({ payload: r }, T0)).to.throw(/3 s in the future/);
    expect(parseGateMessage({ payload: reading('mode', 1, T0 + GATE_MAX_FUTURE_MS) }, T0).kind).to.equal('reading');
  });
});
