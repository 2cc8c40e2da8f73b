import { detectorFor } from '../../src/analytics/detectors/index.js';
import type { ResolvedRule } from '../../src/analytics/rules/index.js';
import type { DetectorInput } from '../../src/analytics/types.js';
import type { AlertInterval } from './score.js';

/**
 * Replays one series through rules exactly as the platform's detector stage would: the same
 * detector code, the params from the same resolver, inputs in timestamp order. An alert opens on
 * a rule's first `raise` and closes on its `clear`; one still open at the end closes at the last
 * sample. Rules driven by `tick` (silence) are not exercised: a replay has no platform clock.
 */
export function replayAlerts(rules: readonly ResolvedRule[], samples: readonly DetectorInput[]): AlertInterval[] {
  const alerts: AlertInterval[] = [];
  const lastTs = samples.at(-1)?.ts ?? 0;
  for (const rule of rules) {
    const def = detectorFor(rule.detector);
    let state = def.initial(rule.params);
    let open: number | null = null;
    for (const input of samples) {
      const step = def.step(rule.params, state, input);
      state = step.state;
      for (const e of step.events) {
        if (e.kind === 'raise' && open === null) open = e.ts;
        else if (e.kind === 'clear' && open !== null) {
          alerts.push({ rule: rule.id, open, close: e.ts });
          open = null;
        }
      }
    }
    if (open !== null) alerts.push({ rule: rule.id, open, close: lastTs });
  }
  return alerts.sort((a, b) => a.open - b.open);
}
