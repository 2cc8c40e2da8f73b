/** The small linear algebra and χ² arithmetic of the multivariate detector (multivariate.ts). */

/** χ²(k) → standard normal (Wilson–Hilferty). */
export function chiSquareZ(t2: number, k: number): number {
  const v = 2 / (9 * k);
  return (Math.cbrt(t2 / k) - (1 - v)) / Math.sqrt(v);
}

/** Lower Cholesky factor L of a symmetric positive definite S (k×k, row-major); null if not positive definite. */
export function cholesky(s: Float64Array, k: number): Float64Array | null {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = s[i * k + j]!;
      for (let m = 0; m < j; m++) sum -= l[i * k + m]! * l[j * k + m]!;
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * k + i] = Math.sqrt(sum);
      } else l[i * k + j] = sum / l[j * k + j]!;
    }
  }
  return l;
}

/** Solve L·Lᵀ·y = x, given the Cholesky factor L. */
export function cholSolve(l: Float64Array, x: Float64Array, k: number): Float64Array {
  const y = new Float64Array(k);
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
  return y;
}
