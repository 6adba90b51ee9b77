/**
 * One home for the numeric primitives the twin's steps share (normal, χ², F and t distributions,
 * log-gamma, incomplete gamma and beta, order statistics). Pure functions, no Node-RED.
 *
 * Failure mode: a bad argument (probability outside its open interval, non-positive degrees of
 * freedom, an empty sample) throws a RangeError naming the function and the value. A caller whose
 * argument comes from a node's configuration wraps it as a TwinError('BAD_CONFIG').
 */

function need(ok: boolean, fn: string, what: string): void {
  if (!ok) throw new RangeError(`${fn}: ${what}`);
}

function needProb(p: number, fn: string): void {
  need(p > 0 && p < 1, fn, `probability must lie in (0, 1), got ${p}`);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln |Γ(x)| (Lanczos, g = 7, n = 9; about 15 significant digits for x > 0). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x); // reflection
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Φ, the standard normal CDF: Hart's double-precision algorithm 5666 as given by G. West, "Better
 * approximations to cumulative normal functions" (2005); absolute error about 1e-14, and the tail
 * is computed directly, so it stays relatively accurate far out.
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z);
  let tail = 0;
  if (x <= 37) {
    const e = Math.exp((-x * x) / 2);
    if (x < 7.07106781186547) {
      const num =
        (((((0.0352624965998911 * x + 0.700383064443688) * x + 6.37396220353165) * x + 33.912866078383) * x + 112.079291497871) * x +
          221.213596169931) *
          x +
        220.206867912376;
      const den =
        ((((((0.0883883476483184 * x + 1.75566716318264) * x + 16.064177579207) * x + 86.7807322029461) * x + 296.564248779674) * x +
          637.333633378831) *
          x +
          793.826512519948) *
          x +
        440.413735824752;
      tail = (e * num) / den;
    } else {
      tail = e / (x + 1 / (x + 2 / (x + 3 / (x + 4 / (x + 0.65))))) / 2.506628274631;
    }
  }
  return z > 0 ? 1 - tail : tail;
}

const QA = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const QB = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const QC = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const QD = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Acklam's rational approximation of Φ⁻¹ for p ≤ 0.5 (relative error < 1.2e-9). */
function acklamLower(p: number): number {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((QC[0] * q + QC[1]) * q + QC[2]) * q + QC[3]) * q + QC[4]) * q + QC[5]) /
      ((((QD[0] * q + QD[1]) * q + QD[2]) * q + QD[3]) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((QA[0] * r + QA[1]) * r + QA[2]) * r + QA[3]) * r + QA[4]) * r + QA[5]) * q) /
    (((((QB[0] * r + QB[1]) * r + QB[2]) * r + QB[3]) * r + QB[4]) * r + 1)
  );
}

/**
 * Standard normal quantile Φ⁻¹(p), 0 < p < 1: Acklam's approximation refined by one Halley step on
 * the lower tail (Φ from normalCdf), which brings it to about 1e-14. Exactly antisymmetric.
 */
export function normalQuantile(p: number): number {
  needProb(p, 'normalQuantile');
  const lower = p <= 0.5 ? p : 1 - p;
  let x = acklamLower(lower);
  const e = normalCdf(x) - lower;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  x -= u / (1 + (x * u) / 2);
  return p <= 0.5 ? x : -x;
}

/** Lower and upper regularised incomplete gamma P(s, x), Q(s, x) (series below s + 1, Lentz CF above). */
function gammaPQ(s: number, x: number): [number, number] {
  if (x <= 0) return [0, 1];
  const lnPre = s * Math.log(x) - x - lnGamma(s);
  if (x < s + 1) {
    let sum = 1 / s;
    let term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (s + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    const p = Math.min(1, Math.exp(lnPre) * sum);
    return [p, Math.max(0, 1 - p)];
  }
  const tiny = 1e-300;
  let b = x + 1 - s;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  const q = Math.min(1, Math.exp(lnPre) * h);
  return [Math.max(0, 1 - q), q];
}

/** Lower regularised incomplete gamma P(s, x) = γ(s, x)/Γ(s), s > 0. */
export function gammaP(s: number, x: number): number {
  need(s > 0, 'gammaP', `shape must be positive, got ${s}`);
  return gammaPQ(s, x)[0];
}

/** Upper regularised incomplete gamma Q(s, x) = 1 − P(s, x), s > 0. */
export function gammaQ(s: number, x: number): number {
  need(s > 0, 'gammaQ', `shape must be positive, got ${s}`);
  return gammaPQ(s, x)[1];
}

/** P(χ²_k ≤ x). */
export function chi2Cdf(x: number, k: number): number {
  need(k > 0, 'chi2Cdf', `degrees of freedom must be positive, got ${k}`);
  return gammaPQ(k / 2, x / 2)[0];
}

/** P(χ²_k ≥ x): the p-value of a sum of k squared standard-normal scores. */
export function chi2Survival(x: number, k: number): number {
  need(k > 0, 'chi2Survival', `degrees of freedom must be positive, got ${k}`);
  return gammaPQ(k / 2, x / 2)[1];
}

/**
 * Exact χ² quantile: the x with P(χ²_k ≤ x) = p, by inverting the regularised incomplete gamma
 * (safeguarded Newton from the Wilson–Hilferty start, falling back to bisection on a bracket). The
 * tail that is smaller is matched (Q above the median), so high quantiles keep their precision.
 */
export function chi2Quantile(p: number, k: number): number {
  needProb(p, 'chi2Quantile');
  need(k > 0, 'chi2Quantile', `degrees of freedom must be positive, got ${k}`);
  const s = k / 2;
  const upper = p > 0.5;
  const target = upper ? 1 - p : p;
  // f(y) = P(s, y) − p (or p − … on the upper side, written as Q − (1 − p) with the sign flipped), y = x/2.
  const f = (y: number): number => {
    const [lo, hi] = gammaPQ(s, y);
    return upper ? target - hi : lo - target;
  };
  const lnG = lnGamma(s);
  const density = (y: number): number => Math.exp((s - 1) * Math.log(y) - y - lnG);
  // Bracket [a, b] with f(a) < 0 ≤ f(b); f is increasing in y.
  let a = 0;
  let b = Math.max(1, s);
  while (f(b) < 0) {
    a = b;
    b *= 2;
  }
  const h = 2 / (9 * k);
  const z = normalQuantile(p);
  let y = (k * Math.max(1e-3, 1 - h + z * Math.sqrt(h)) ** 3) / 2;
  if (!(y > a && y < b)) y = 0.5 * (a + b);
  for (let i = 0; i < 300; i++) {
    const fy = f(y);
    if (fy === 0) break;
    if (fy < 0) a = y;
    else b = y;
    const step = fy / density(y);
    let next = y - step;
    if (!(next > a && next < b) || !Number.isFinite(next)) next = 0.5 * (a + b);
    if (Math.abs(next - y) <= 1e-15 * Math.max(1, y) || b - a <= 1e-15 * b) {
      y = next;
      break;
    }
    y = next;
  }
  return 2 * y;
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of the F(d1, d2) distribution. */
export function fCdf(x: number, d1: number, d2: number): number {
  if (x <= 0) return 0;
  return regularizedBeta((d1 * x) / (d1 * x + d2), d1 / 2, d2 / 2);
}

/**
 * Quantile of F(d1, d2): the x with fCdf(x) = prob. Solves I_y(d1/2, d2/2) = prob by bisection on
 * y, bounded in (0, 1) so it always converges, then maps back: x = d2 y / (d1 (1 − y)).
 */
export function fQuantile(prob: number, d1: number, d2: number): number {
  needProb(prob, 'fQuantile');
  need(d1 > 0 && d2 > 0, 'fQuantile', `degrees of freedom must be positive, got ${d1}, ${d2}`);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-16; i++) {
    const mid = 0.5 * (lo + hi);
    if (regularizedBeta(mid, d1 / 2, d2 / 2) < prob) lo = mid;
    else hi = mid;
  }
  const y = 0.5 * (lo + hi);
  return (d2 * y) / (d1 * (1 - y));
}

const tCache = new Map<string, number>();

/** Upper quantile of Student's t with `dof` degrees of freedom: P(T ≤ t) = prob, prob in (0.5, 1). */
export function tQuantile(prob: number, dof: number): number {
  need(prob > 0.5 && prob < 1, 'tQuantile', `probability must lie in (0.5, 1), got ${prob}`);
  const key = `${prob}/${dof}`;
  let t = tCache.get(key);
  if (t === undefined) {
    // T² ~ F(1, dof), and T is symmetric: P(|T| ≤ t) = 2·prob − 1.
    t = Math.sqrt(fQuantile(2 * prob - 1, 1, dof));
    if (tCache.size > 1000) tCache.clear();
    tCache.set(key, t);
  }
  return t;
}

/** Quantile of an ascending-sorted sample by linear interpolation between order statistics (type 7); NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  need(q >= 0 && q <= 1, 'quantileSorted', `q must lie in [0, 1], got ${q}`);
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Median of an unsorted sample (mean of the two middle values when even); NaN when empty. The same
 * value as quantileSorted(sorted copy, 0.5), found by selection in O(n) rather than a sort: a drift
 * classification takes a dozen medians of windows of up to a few thousand readings.
 */
export function median(xs: ArrayLike<number>): number {
  const n = xs.length;
  // A typed array sorts numerically in native code (NaN last), several times faster than a comparator sort.
  if (n < 64) return quantileSorted(Float64Array.from(xs).sort(), 0.5);
  const a = Float64Array.from(xs);
  for (let i = 0; i < n; i++) if (Number.isNaN(a[i])) return quantileSorted(a.sort(), 0.5); // a NaN: as the sort places it
  const pos = (n - 1) * 0.5;
  const lo = Math.floor(pos);
  const xLo = selectInPlace(a, lo);
  if (pos === lo) return xLo;
  // Selection left everything after index lo at or above a[lo]: the next order statistic is their minimum.
  let xHi = Infinity;
  for (let i = lo + 1; i < n; i++) if (a[i] < xHi) xHi = a[i];
  return xLo + (xHi - xLo) * (pos - lo);
}

/**
 * The k-th smallest of `a` (0-based), reordering `a` so that a[0..k-1] ≤ a[k] ≤ a[k+1..]: Hoare's
 * selection with a median-of-three pivot. `a` must hold no NaN.
 */
function selectInPlace(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    if (a[mid] < a[left]) swap(a, left, mid);
    if (a[right] < a[left]) swap(a, left, right);
    if (a[right] < a[mid]) swap(a, mid, right);
    const pivot = a[mid];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]; // between j and i: equal to the pivot
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/** Normal-consistent scale of the median absolute deviation: σ ≈ 1.4826 · MAD for Gaussian data. */
export const MAD_TO_SIGMA = 1.4826;

/** MAD-σ: MAD_TO_SIGMA · median |x − median|; NaN when empty. */
export function madSigma(xs: readonly number[], med = median(xs)): number {
  return MAD_TO_SIGMA * median(xs.map((x) => Math.abs(x - med)));
}
