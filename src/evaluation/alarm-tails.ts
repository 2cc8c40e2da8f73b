import type { Alert } from './alerts.js';
import type { RowWindow } from './nab-score.js';

/**
 * Where each source's alarmed rows fall against the labels: inside a window, on normal rows after
 * the end of a window (an alert kept open past the fault: the "tail"), or on other normal rows.
 * Point-wise FAR counts both kinds of normal row alike; telling them apart says whether a rule's
 * false alarms are alerts that opened without a fault or alerts that did not close after one.
 * Rows in probation are left out, as the scores leave them out.
 */
export interface AlarmRows {
  alerts: number;
  inWindow: number;
  /** Normal rows alarmed by an alert that was open at the end of a window (its tail). */
  afterWindow: number;
  /** Normal rows alarmed by an alert that opened outside every window. */
  outside: number;
}

export function alarmTails(rows: number, windows: readonly RowWindow[], probation: number, alerts: readonly Alert[]): Record<string, AlarmRows> {
  const inWindow = new Uint8Array(rows);
  for (const w of windows) inWindow.fill(1, w.first, w.last + 1);
  const out: Record<string, AlarmRows> = {};
  for (const a of alerts) {
    const r = (out[a.source] ??= { alerts: 0, inWindow: 0, afterWindow: 0, outside: 0 });
    r.alerts++;
    // An alert still open at the last row alarms that row (Alert's convention).
    const end = Math.min(rows, Math.max(a.closeRow, a.openRow + 1));
    let tail = inWindow[a.openRow] === 1;
    for (let row = a.openRow; row < end; row++) {
      if (inWindow[row]) {
        tail = true;
        if (row >= probation) r.inWindow++;
      } else if (row >= probation) {
        if (tail) r.afterWindow++;
        else r.outside++;
      }
    }
  }
  return out;
}

/** A source's rule: `deviation:vibration_g` belongs to `deviation`. */
export const ruleOf = (source: string): string => source.split(':', 1)[0]!;

/**
 * Which windows each rule found: the indices of the windows in which one of its alerts (on any
 * metric) opened after probation, as the event scores count a detection. Per rule rather than per
 * source, so a rule on every metric counts a window once however many metrics it raised on.
 */
export function windowsFound(windows: readonly RowWindow[], probation: number, alerts: readonly Alert[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const a of alerts) {
    if (a.openRow < probation) continue;
    const w = windows.findIndex((x) => a.openRow >= x.first && a.openRow <= x.last);
    if (w < 0) continue;
    const rule = ruleOf(a.source);
    let found = out.get(rule);
    if (!found) out.set(rule, (found = new Set()));
    found.add(w);
  }
  return out;
}
