// twin-screen's stuck/spike flags → sensor-fault events (runtime/drift/screen-flags.ts).
import { expect } from 'chai';
import { ScreenFlagEvents, screenFaults } from '../../runtime/drift/screen-flags.js';
import type { Reading } from '../../runtime/model/reading.js';

const T0 = Date.UTC(2026, 0, 1);
function rd(i: number, value: number, qualityReason?: string): Reading {
  return {
    asset: 'a',
    tag: 't',
    value,
    tsMs: T0 + i * 1000,
    quality: qualityReason ? 'uncertain' : 'good',
    source: 'test',
    ...(qualityReason ? { qualityReason } : {}),
  };
}

describe('drift: screen flags → sensor-fault events', () => {
  it('reads whole tokens of qualityReason only', () => {
    expect(screenFaults('BadSensor;range>high;spike')).to.deep.equal({ stuck: false, spike: true });
    expect(screenFaults(' stuck ')).to.deep.equal({ stuck: true, spike: false });
    expect(screenFaults('stuckish;spiked')).to.deep.equal({ stuck: false, spike: false });
    expect(screenFaults(undefined)).to.deep.equal({ stuck: false, spike: false });
  });

  it('a stuck run is one event from its first flagged reading; a gap of gapSamples unflagged readings ends it', () => {
    const s = new ScreenFlagEvents(60, 2);
    const flags = ['', 'stuck', 'stuck', '', 'stuck', '', '', 'stuck'];
    const events = flags.flatMap((f, i) => s.push(rd(i, 5, f || undefined)));
    expect(events.map((e) => [e.faultType, e.startTsMs])).to.deep.equal([
      ['stuck', T0 + 1000],
      ['stuck', T0 + 7000],
    ]);
    expect(events[0]).to.include({ kind: 'sensor-fault', method: 'twin-screen', magnitude: 0, quality: 'uncertain' });
  });

  it('a spike: value − median of recent unflagged readings; at most one per holdOffSamples readings', () => {
    const s = new ScreenFlagEvents(5, 1);
    const out = [1, 2, 3].flatMap((v, i) => s.push(rd(i, v)));
    expect(out).to.deep.equal([]);
    const first = s.push(rd(3, 50, 'spike'));
    expect(first).to.have.length(1);
    expect(first[0].magnitude).to.equal(48);
    expect(first[0].evidence).to.include({ recentMedian: 2, medianSamples: 3, spikesSinceLastEvent: 1 });
    s.push(rd(4, 2));
    expect(s.push(rd(5, 60, 'spike'))).to.deep.equal([]); // two readings since the last event < 5
    for (let i = 6; i < 9; i++) s.push(rd(i, 2));
    const later = s.push(rd(9, 70, 'spike'));
    expect(later).to.have.length(1);
    expect(later[0].evidence).to.include({ spikesSinceLastEvent: 2 });
  });
});
