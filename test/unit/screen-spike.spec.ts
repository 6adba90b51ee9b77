import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import { spikeInit, spikeStep, sortedMedian, sortedMad, SPIKE, MAD_TO_SIGMA, type SpikeConfig } from '../../runtime/ingest/screen/spike.js';
import { prng } from '../../bench/prng.js';

function rd(value: number, tsMs: number): Reading {
  return { asset: 'a', tag: 't', value, tsMs, quality: 'good', source: 'test' };
}

function naiveMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Reference Hampel decision on a trailing window, written the slow, obvious way. */
function naiveHampel(window: number[], x: number, c: SpikeConfig): boolean {
  const med = naiveMedian(window);
  const mad = naiveMedian(window.map((v) => Math.abs(v - med)));
  const dev = Math.abs(x - med);
  return dev > c.spikeMinDelta && dev > c.spikeK * MAD_TO_SIGMA * mad;
}

describe('screen check: spike (Hampel filter)', () => {
  it('median and MAD of a sorted array match the definition (odd and even n, ties)', () => {
    const rand = prng(7);
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + Math.floor(rand() * 30);
      const xs = Array.from({ length: n }, () => Math.round(rand() * 20) / 2); // many ties
      const sorted = Float64Array.from(xs).sort();
      const med = sortedMedian(sorted, n);
      expect(med).to.equal(naiveMedian(xs));
      expect(sortedMad(sorted, n, med)).to.equal(naiveMedian(xs.map((v) => Math.abs(v - med))));
    }
  });

  it('agrees with a naive Hampel filter over a long noisy series with spikes and steps', () => {
    for (const w of [3, 4, 9, 25]) {
      const c: SpikeConfig = { spikeWindow: w, spikeK: 3, spikeMinDelta: 0.05 };
      const s = spikeInit(c);
      const rand = prng(w);
      const past: number[] = [];
      let level = 50;
      let flagged = 0;
      for (let i = 0; i < 3000; i++) {
        if (i % 700 === 699) level += 20; // level shifts
        let x = level + (rand() - 0.5) * 2;
        if (rand() < 0.02) x += (rand() < 0.5 ? -1 : 1) * 30; // spikes
        if (rand() < 0.05) x = Math.round(x); // ties
        const expected = past.length === w ? naiveHampel(past, x, c) : false;
        const got = spikeStep(s, rd(x, i), c).flag === SPIKE;
        expect(got, `w=${w} i=${i} x=${x}`).to.equal(expected);
        if (got) flagged++;
        past.push(x);
        if (past.length > w) past.shift();
      }
      expect(flagged).to.be.greaterThan(20);
    }
  });

  it('flags an isolated spike in noise but not ordinary noise, and not before the window is full', () => {
    const c: SpikeConfig = { spikeWindow: 7, spikeK: 3, spikeMinDelta: 0 };
    const s = spikeInit(c);
    const noise = [10.1, 9.9, 10.0, 10.2, 9.8, 10.05, 9.95, 10.1, 9.9];
    const early = spikeStep(s, rd(1000, 0), c).flag; // window empty: no judgement
    expect(early).to.equal(undefined);
    const flags = noise.map((v, i) => spikeStep(s, rd(v, i + 1), c).flag);
    // 1000 sits in the window for 7 readings; the median shrugs it off, so noise stays clean.
    expect(flags.filter((f) => f === SPIKE)).to.have.length(0);
    expect(spikeStep(s, rd(14, 100), c).flag).to.equal(SPIKE);
    expect(spikeStep(s, rd(10.0, 101), c).flag).to.equal(undefined);
  });

  it('a level shift is flagged for about half a window, then accepted', () => {
    const c: SpikeConfig = { spikeWindow: 9, spikeK: 3, spikeMinDelta: 0 };
    const s = spikeInit(c);
    let i = 0;
    for (; i < 20; i++) spikeStep(s, rd(10 + (i % 3) * 0.1, i), c);
    const after = Array.from({ length: 10 }, (_, k) => spikeStep(s, rd(30 + (k % 3) * 0.1, i + k), c).flag === SPIKE);
    expect(after.slice(0, 5).every(Boolean)).to.equal(true);
    expect(after.slice(6).some(Boolean)).to.equal(false);
  });

  it('on a flat signal (MAD 0) spikeMinDelta keeps resolution steps from being spikes', () => {
    const c: SpikeConfig = { spikeWindow: 5, spikeK: 3, spikeMinDelta: 0.5 };
    const s = spikeInit(c);
    for (let i = 0; i < 5; i++) spikeStep(s, rd(20, i), c);
    expect(spikeStep(s, rd(20.1, 5), c).flag).to.equal(undefined);
    expect(spikeStep(s, rd(25, 6), c).flag).to.equal(SPIKE);
    const s0 = spikeInit({ ...c, spikeMinDelta: 0 });
    for (let i = 0; i < 5; i++) spikeStep(s0, rd(20, i), c);
    expect(spikeStep(s0, rd(20.1, 5), { ...c, spikeMinDelta: 0 }).flag).to.equal(SPIKE);
  });

  it('keeps memory fixed: the buffers never grow', () => {
    const c: SpikeConfig = { spikeWindow: 11, spikeK: 3, spikeMinDelta: 0 };
    const s = spikeInit(c);
    const ring = s.ring;
    for (let i = 0; i < 10_000; i++) spikeStep(s, rd(Math.sin(i), i), c);
    expect(s.ring).to.equal(ring);
    expect(s.ring.length).to.equal(11);
    expect(s.n).to.equal(11);
  });
});
