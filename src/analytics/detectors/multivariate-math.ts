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
