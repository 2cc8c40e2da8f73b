/**
 * Which metrics of a device are on their way back to normal, for the multivariate detector
 * (multivariate.ts): what lets an alert end when its fault ends though a slow metric has not yet
 * returned. A fluid warmed by a fault of a few minutes cools back over tens of minutes: still 5σ
 * off a quarter of an hour later, it kept T² above the calm level and the (clipped) MEWMA
 * saturated, so the alert outlived its fault by the rest of the run. The fault is over when what
 * it moved is moving back; a fault that goes on keeps its metrics where it put them (stuck) or
 * moves them further (drift).
 *
 * A metric is *recovering* when, over its last `window` judged samples, its standardised value
 * falls towards the learned mean by a least-squares slope at least `tMin` of the slope's own
 * standard error, and the fitted line ends on the side it falls from (it is returning, not
 * crossing). Its recovery ends well once the fitted line ends within `band` (σ) of the mean,
 * badly if its return stops short of that. The error comes from the window's residuals, widened by their lag-1
 * autocorrelation ρ as the variance of a mean of AR(1) samples is, (1 + ρ)/(1 − ρ): a metric that
 * only wanders slowly shows long runs one way that are not a trend. A step back to a level that
 * stays (a fault that eases but goes on) is a trend only while the step lies in the window; the
 * detector therefore ends an alert on a calm run only if no metric it took as recovering during
 * that run has stopped short (multivariate.ts).
 *
 * Kept only while an alert is open, and after it while a metric is still recovering: nothing is
 * computed on a device without one. Plain arrays, so the state stays plain JSON.
 */
export interface Recovery {
  /** The last `window` standardised values of each metric: row j (j-th sample written) at (j % window)·d; null: absent or not ready (JSON has no NaN). */
  ring: (number | null)[];
  /** The time of each row of the ring (row j at j % window). */
  at: number[];
  /** Rows written. */
  rows: number;
  /** Per metric: 1 while it is recovering, else 0. */
  excused: number[];
  /** Per metric: 1 if its fitted line ends beyond `band` (not back), else 0. */
  out: number[];
  /** Per metric: 1 if it was recovering in any sample of the open alert's current calm run. */
  inRun: number[];
}

/**
 * The largest lag-1 correlation counted (here of the residuals, in multivariate.ts of the learned
 * vectors): a random walk's would make any slope nothing and every sample count for none.
 */
export const MAX_RHO = 0.95;

export function freshRecovery(d: number, window: number): Recovery {
  return { ring: Array<number | null>(d * window).fill(null), at: Array<number>(window).fill(0), rows: 0, excused: Array<number>(d).fill(0), out: Array<number>(d).fill(0), inRun: Array<number>(d).fill(0) };
}

export function copyRecovery(r: Recovery): Recovery {
  return { ring: r.ring.slice(), at: r.at.slice(), rows: r.rows, excused: r.excused.slice(), out: r.out.slice(), inRun: r.inRun.slice() };
}

/**
 * Write one judged sample (`values`: each metric's standardised value by position, NaN: absent)
 * and decide for every metric whether it is recovering. Returns how many are.
 */
export function observe(r: Recovery, d: number, window: number, tMin: number, band: number, ts: number, values: ArrayLike<number>): number {
  r.at[r.rows % window] = ts;
  const row = (r.rows % window) * d;
  for (let i = 0; i < d; i++) r.ring[row + i] = Number.isNaN(values[i]!) ? null : values[i]!;
  r.rows++;
  let count = 0;
  for (let i = 0; i < d; i++) {
    const on = r.rows >= window && recovering(r, d, window, tMin, band, i);
    r.excused[i] = on ? 1 : 0;
    if (on) count++;
  }
  return count;
}

/** Metric i's window (oldest first) shows a significant return towards 0 (see above); sets its `out`. */
function recovering(r: Recovery, d: number, window: number, tMin: number, band: number, i: number): boolean {
  const first = r.rows % window;
  let sum = 0;
  let cross = 0;
  const mid = (window - 1) / 2;
  r.out[i] = 0;
  for (let t = 0; t < window; t++) {
    const x = r.ring[((first + t) % window) * d + i];
    // Absent in part of the window: neither recovering nor counted as out (absent, it is in no statistic).
    if (x === null || x === undefined) return false;
    sum += x;
    cross += (t - mid) * x;
  }
  const mean = sum / window;
  const stt = (window * (window * window - 1)) / 12;
  const slope = cross / stt;
  const end = mean + slope * mid;
  r.out[i] = Math.abs(end) > band ? 1 : 0;
  // Falling towards 0 from the side the line ends on.
  if (!(slope * end < 0)) return false;
  let rss = 0;
  let lag = 0;
  let prev = NaN;
  for (let t = 0; t < window; t++) {
    const res = r.ring[((first + t) % window) * d + i]! - mean - slope * (t - mid);
    rss += res * res;
    if (t > 0) lag += res * prev;
    prev = res;
  }
  if (!(rss > 0)) return true;
  const rho = Math.min(MAX_RHO, Math.max(0, lag / rss));
  const se = Math.sqrt((rss / (window - 2) / stt) * ((1 + rho) / (1 - rho)));
  return Math.abs(slope) >= tMin * se;
}

/**
 * When the fault that the recovering metrics return from ended, at the latest: the most recent of
 * their farthest points in the window (a metric returns once its cause is gone). `back`: judged
 * samples since then.
 */
export function endOfCause(r: Recovery, d: number, window: number): { ts: number; back: number } | null {
  const first = r.rows % window;
  let latest = -1;
  for (let i = 0; i < d; i++) {
    if (r.excused[i] === 0) continue;
    let far = -1;
    let at = 0;
    for (let t = 0; t < window; t++) {
      const x = Math.abs(r.ring[((first + t) % window) * d + i]!);
      if (x >= far) {
        far = x;
        at = t;
      }
    }
    latest = Math.max(latest, at);
  }
  if (latest < 0) return null;
  return { ts: r.at[(first + latest) % window]!, back: window - 1 - latest };
}
