import { gammaln } from 'simple-statistics';

/**
 * The small linear algebra and χ² arithmetic of the multivariate detector (multivariate.ts). The
 * matrix routines write into arrays the caller owns: they run on every sample of every device,
 * where a new array per call would be most of their cost.
 */

/** χ²(k) → standard normal (Wilson–Hilferty). */
export function chiSquareZ(t2: number, k: number): number {
  const v = 2 / (9 * k);
  return (Math.cbrt(t2 / k) - (1 - v)) / Math.sqrt(v);
}

/**
 * Hotelling's T² of one new sample against a mean and covariance estimated from n samples, as a
 * z-score on chiSquareZ's scale: T²·n(n − k)/(k(n − 1)(n + 1)) follows F(k, n − k) on normal
 * data, so a model that has seen few samples needs a far larger T² for the same z (k = 8, z = 8:
 * T² ≈ 1,750 after 30 samples, 500 after 45, 180 after 100, 104 after 1,000, against χ²'s 98), and the same
 * `zRaise` is a strict bar early that relaxes as the model learns, to exactly chiSquareZ's as n
 * grows (the bars were chosen on that scale). Below APPROX_BELOW, Paulson's cube-root
 * approximation of the F (chiSquareZ's counterpart); beyond, where it fails (it is bounded: never
 * above 4 with 12 samples of 8 metrics), the F's exact tail probability (incomplete beta) taken
 * back to the χ²(k) value with that tail (incomplete gamma, inverted) and that value's chiSquareZ:
 * computed only for the rare samples that far out.
 */
export function hotellingZ(t2: number, k: number, n: number): number {
  const m = n - k;
  if (!(m > 0)) return 0;
  const f = (t2 * n * m) / (k * (n - 1) * (n + 1));
  const z = paulsonZ(f, k, m);
  if (z < APPROX_BELOW) return z;
  return chiSquareZ(chiSquareWithTail(logUpperF(f, k, m), k, k * f), k);
}

/**
 * The q with ln P(χ²(k) > q) = lnP, given one (`above`) whose tail is no heavier: Newton's method
 * on the log tail, kept within a bracket that bisection narrows when a step leaves it.
 */
function chiSquareWithTail(lnP: number, k: number, above: number): number {
  const a = k / 2;
  let lo = 0;
  let hi = above;
  let q = above;
  for (let i = 0; i < 100; i++) {
    const lnQ = logUpperChiSquare(q, k);
    const g = lnQ - lnP;
    if (Math.abs(g) < 1e-10) break;
    if (g > 0) lo = q;
    else hi = q;
    // d lnQ/dq = −density/Q; density of χ²(k) at q: (q/2)^(a−1)·e^(−q/2)/(2Γ(a)).
    const slope = -Math.exp((a - 1) * Math.log(q / 2) - q / 2 - gammaln(a) - Math.LN2 - lnQ);
    let next = q - g / slope;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - q) < 1e-12 * q) break;
    q = next;
  }
  return q;
}

/** The z below which Paulson's approximation stands for the exact F tail. */
const APPROX_BELOW = 2.5;

/** F(k, m) → standard normal (Paulson's cube-root approximation; good for large m). */
function paulsonZ(f: number, k: number, m: number): number {
  const a = 2 / (9 * k);
  const b = 2 / (9 * m);
  const c = Math.cbrt(f);
  return ((1 - b) * c - (1 - a)) / Math.sqrt(b * c * c + a);
}

/** ln P(F(k, m) > f) = ln I_x(m/2, k/2), x = m/(m + k·f). */
function logUpperF(f: number, k: number, m: number): number {
  if (!(f > 0)) return 0;
  const x = m / (m + k * f);
  const a = m / 2;
  const b = k / 2;
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - (gammaln(a) + gammaln(b) - gammaln(a + b));
  // The continued fraction converges fast for x < (a + 1)/(a + b + 2); above, through the complement.
  if (x < (a + 1) / (a + b + 2)) return lnFront + Math.log(betaFraction(a, b, x) / a);
  return Math.log1p(-Math.exp(lnFront) * (betaFraction(b, a, 1 - x) / b));
}

/** ln P(χ²(k) > q) = ln Q(k/2, q/2), the regularised upper incomplete gamma function. */
function logUpperChiSquare(q: number, k: number): number {
  const a = k / 2;
  const x = q / 2;
  if (!(x > 0)) return 0;
  const lnFront = a * Math.log(x) - x - gammaln(a);
  if (x < a + 1) {
    // The series for the lower part P(a, x); Q = 1 − P.
    let term = 1 / a;
    let sum = term;
    for (let i = 1; i <= 500; i++) {
      term *= x / (a + i);
      sum += term;
      if (term < sum * 1e-15) break;
    }
    return Math.log1p(-Math.exp(lnFront) * sum);
  }
  // The continued fraction for Q (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return lnFront + Math.log(h);
}

/** The incomplete beta function's continued fraction (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let i = 1; i <= 300; i++) {
    const i2 = 2 * i;
    let aa = (i * (b - i) * x) / ((a + i2 - 1) * (a + i2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + i) * (a + b + i) * x) / ((a + i2) * (a + i2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-12) break;
  }
  return h;
}


/**
 * Lower Cholesky factor L of a symmetric positive definite S (k×k, row-major), written into `l`
 * (its lower triangle and diagonal; the upper triangle is never read); false if S is not positive
 * definite.
 */
export function cholesky(s: Float64Array, k: number, l: Float64Array): boolean {
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = s[i * k + j]!;
      for (let m = 0; m < j; m++) sum -= l[i * k + m]! * l[j * k + m]!;
      if (i === j) {
        if (!(sum > 0)) return false;
        l[i * k + i] = Math.sqrt(sum);
      } else l[i * k + j] = sum / l[j * k + j]!;
    }
  }
  return true;
}

/** Solve L·Lᵀ·y = x into `y` (its first k entries), given the Cholesky factor L. */
export function cholSolve(l: Float64Array, x: Float64Array, k: number, y: Float64Array): void {
  for (let i = 0; i < k; i++) {
    let sum = x[i]!;
    for (let m = 0; m < i; m++) sum -= l[i * k + m]! * y[m]!;
    y[i] = sum / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let m = i + 1; m < k; m++) sum -= l[m * k + i]! * y[m]!;
    y[i] = sum / l[i * k + i]!;
  }
}

/**
 * xᵀ·S⁻¹·x = |L⁻¹x|² for S = L·Lᵀ: one forward substitution (into `z`) instead of a full solve,
 * since only the statistic is needed on most samples.
 */
export function cholQuadratic(l: Float64Array, x: Float64Array, k: number, z: Float64Array): number {
  let q = 0;
  for (let i = 0; i < k; i++) {
    let sum = x[i]!;
    for (let m = 0; m < i; m++) sum -= l[i * k + m]! * z[m]!;
    const zi = sum / l[i * k + i]!;
    z[i] = zi;
    q += zi * zi;
  }
  return q;
}
