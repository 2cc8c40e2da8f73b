import type { AnomalyEvent } from '../../src/analytics/types.js';

/** An alert opened: a rule's first `raise` on a device while no alert of that rule was open there. */
export interface AlertOpening {
  device: string;
  rule: string;
  ts: number;
}

/**
 * Turns the engine's events into alert openings the way the alert manager deduplicates them: one
 * open alert per device and rule, opened by a `raise`, updated by later raises, closed by `clear`.
 */
export class AlertOpenings {
  readonly openings: AlertOpening[] = [];
  private readonly open = new Set<string>();

  add(events: readonly AnomalyEvent[]): void {
    for (const e of events) {
      const device = `${e.site}/${e.line}/${e.device}`;
      const key = `${device}|${e.rule}`;
      if (e.kind === 'raise' && !this.open.has(key)) {
        this.open.add(key);
        this.openings.push({ device, rule: e.rule, ts: e.ts });
      } else if (e.kind === 'clear') this.open.delete(key);
    }
  }
}
