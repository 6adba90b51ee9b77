import { expect } from 'chai';
import { Matrix } from 'ml-matrix';
import { kfInit, kfPredict, kfUpdate } from '../../runtime/estimate/kalman.js';
import { kf1, kf1Predict, kf1Update } from '../../runtime/estimate/kalman1d.js';
import { LocalLevel } from '../../runtime/estimate/local-level.js';
import { FirstOrder, firstOrderStep } from '../../runtime/estimate/first-order.js';
import { LocalTrend, LocalTrendMatrix, localTrendF, localTrendQ } from '../../runtime/estimate/local-trend.js';
import { gaussian } from '../support/estimate-sim.js';

function close(a: number, b: number, tol = 1e-12): void {
  expect(Math.abs(a - b), `${a} vs ${b}`).to.be.at.most(tol * Math.max(1, Math.abs(b)));
}

describe('estimate: Kalman filter (n-D, ml-matrix) and scalar fast path', () => {
  it('matches a hand-computed constant-velocity step (predict dt = 1 s, update z = 2, R = 1)', () => {
    const s = kfInit(
      [0, 0],
      [
        [1, 0],
        [0, 1],
      ],
    );
    kfPredict(s, localTrendF(1), Matrix.zeros(2, 2));
    // P⁻ = F·P·Fᵀ = [[2, 1], [1, 1]]
    expect(s.P.to2DArray()).to.deep.equal([
      [2, 1],
      [1, 1],
    ]);
    const u = kfUpdate(s, new Matrix([[1, 0]]), Matrix.columnVector([2]), new Matrix([[1]]));
    // S = 3, K = [2/3, 1/3], ν = 2 → x = [4/3, 2/3], P = [[2/3, 1/3], [1/3, 2/3]], NIS = 4/3
    close(u.S.get(0, 0), 3);
    close(u.K.get(0, 0), 2 / 3);
    close(u.K.get(1, 0), 1 / 3);
    close(s.x.get(0, 0), 4 / 3);
    close(s.x.get(1, 0), 2 / 3);
    close(s.P.get(0, 0), 2 / 3);
    close(s.P.get(0, 1), 1 / 3);
    close(s.P.get(1, 0), 1 / 3);
    close(s.P.get(1, 1), 2 / 3);
    close(u.nis, 4 / 3);
  });

  it('Joseph form keeps P symmetric and positive over many steps with a mix of long and very short dt', () => {
    const g = gaussian(7);
    const p = { levelVarPerS: 0.01, slopeVarPerS3: 1e-3, initialSlopeVarPerS2: 1e6 };
    const s = kfInit(
      [0, 0],
      [
        [1, 0],
        [0, 1e6],
      ],
    );
    const H = new Matrix([[1, 0]]);
    for (let i = 0; i < 2000; i++) {
      const dt = i % 7 === 0 ? 30 : 0.01;
      kfPredict(s, localTrendF(dt), localTrendQ(p, dt));
      kfUpdate(s, H, Matrix.columnVector([g() * 1e-3]), new Matrix([[1e-6]]));
      expect(s.P.get(0, 1)).to.equal(s.P.get(1, 0));
      expect(s.P.get(0, 0)).to.be.greaterThan(0);
      expect(s.P.get(0, 0) * s.P.get(1, 1) - s.P.get(0, 1) ** 2).to.be.at.least(-1e-12 * s.P.get(0, 0) * s.P.get(1, 1));
    }
  });

  it('the scalar path computes what the n-D filter computes (same a, b, q, r)', () => {
    const g = gaussian(11);
    const f = kf1(5, 2);
    const s = kfInit([5], [[2]]);
    for (let i = 0; i < 500; i++) {
      const a = 0.9 + 0.1 * Math.abs(g()) * 0.5;
      const b = g();
      const q = 0.1 + Math.abs(g());
      const r = 0.5 + Math.abs(g());
      const z = 10 * g();
      kf1Predict(f, a, b, q);
      kfPredict(s, new Matrix([[a]]), new Matrix([[q]]), new Matrix([[b]]));
      const nu = kf1Update(f, z, r);
      const u = kfUpdate(s, new Matrix([[1]]), new Matrix([[z]]), new Matrix([[r]]));
      close(nu, u.innovation.get(0, 0), 1e-9);
      close(f.x, s.x.get(0, 0), 1e-9);
      close(f.p, s.P.get(0, 0), 1e-9);
      close(f.s, u.S.get(0, 0), 1e-9);
    }
  });

  it('local level: P grows by levelVarPerS·dt and shrinks by the scalar update (closed form)', () => {
    const m = new LocalLevel({ levelVarPerS: 0.5 });
    m.init(10, 4);
    m.predict(2, NaN, 1); // P⁻ = 4 + 1 = 5
    const nu = m.update(13, 5); // S = 10, K = 0.5
    expect(nu).to.equal(3);
    close(m.value(), 11.5);
    close(m.variance(), 2.5);
    close(m.s, 10);
    close(m.hph, 5);
  });

  it('first-order: exact discretisation (a = e^(−dt/τ), x → gain·u, q → levelVarPerS·dt for small dt)', () => {
    const p = { levelVarPerS: 0.2, gain: 2, tauS: 10 };
    const st = firstOrderStep(p, 5, 100);
    close(st.a, Math.exp(-0.5));
    close(st.b, (1 - Math.exp(-0.5)) * 200);
    close(st.q, 0.2 * 5 * (1 - Math.exp(-1)));
    close(firstOrderStep(p, 1e-6, 100).q, 0.2 * 1e-6, 1e-5);
    const m = new FirstOrder(p);
    m.init(0, 1);
    for (let i = 0; i < 100; i++) m.predict(10, 100, 1); // 1000 s = 100 τ
    close(m.value(), 200, 1e-9);
    close(m.variance(), (0.2 * 10) / 2, 1e-9); // stationary variance of the lag: q·τ/2
  });

  it('local trend: the unrolled 2×2 filter computes what the ml-matrix filter computes', () => {
    const g = gaussian(12);
    const params = { levelVarPerS: 0.003, slopeVarPerS3: 0.02, initialSlopeVarPerS2: 5 };
    const fast = new LocalTrend(params);
    const ref = new LocalTrendMatrix(params);
    fast.init(3, 0.5);
    ref.init(3, 0.5);
    for (let i = 0; i < 1000; i++) {
      const dt = i % 13 === 0 ? 60 : 0.1 + Math.abs(g());
      const qScale = i % 5 === 0 ? 2.5 : 1;
      fast.predict(dt, NaN, qScale);
      ref.predict(dt, NaN, qScale);
      close(fast.qStep, ref.qStep, 1e-9);
      const z = 3 + 0.1 * i + g();
      const r = 0.2 + Math.abs(g());
      close(fast.update(z, r), ref.update(z, r), 1e-9);
      close(fast.s, ref.s, 1e-9);
      close(fast.hph, ref.hph, 1e-9);
      close(fast.gainSq, ref.gainSq, 1e-9);
      close(fast.value(), ref.value(), 1e-9);
      close(fast.state().slopePerS, ref.state().slopePerS, 1e-9);
      const a = fast.covariance();
      const b = ref.covariance();
      for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) close(a[j][k], b[j][k], 1e-9);
    }
  });

  it('local trend exposes level, slopePerS and the covariance', () => {
    const m = new LocalTrend({ levelVarPerS: 0, slopeVarPerS3: 0, initialSlopeVarPerS2: 100 });
    m.init(1, 0.01);
    m.predict(1, NaN, 1);
    m.update(3, 0.01);
    const st = m.state();
    expect(st.level).to.be.closeTo(3, 0.01);
    expect(st.slopePerS).to.be.closeTo(2, 0.01);
    const P = m.covariance();
    expect(P).to.have.length(2);
    expect(P[0][1]).to.equal(P[1][0]);
  });
});
