import { AnalyticsEngine } from '../analytics/engine.js';
import type { AnalyticsConfig } from '../analytics/config.js';
import type { AnomalyEvent, Category } from '../alerts/types.js';
import type { DeviceRef, TelemetryBatch } from '../contract/index.js';
import { AlertTracker, type Alert } from './alerts.js';
import type { CsvTable } from './csv-table.js';
import type { Detector, LoadedFile } from './evaluate.js';

/**
 * Alerts of this category are about delivery (a device that stopped reporting), which a replay
 * reproduces only as the gaps between rows' timestamps, not as the device's real arrivals: they
 * are counted but not scored against anomaly labels.
 */
export const UNSCORED_CATEGORIES: ReadonlySet<Category> = new Set<Category>(['data']);

export interface ReplayResult {
  alerts: Alert[];
  /** Openings of alerts in UNSCORED_CATEGORIES. */
  unscoredAlerts: number;
  /** Rows the engine skipped because their time was not after the previous row's (as live). */
  samplesNotNewer: number;
}

/**
 * Replays one file as one live device through the platform's analytics engine: each row is one
 * sample `{ ts, m: { <metric>: value } }` (empty cells left out, as bad-quality readings are) in a
 * batch of its own, arriving at its own time (`now` = ts), after a tick of the engine's clock at
 * that time so that time-driven rules (silence) run as they do live. Every rule the engine has
 * for the device runs: nothing is chosen here. Alerts per (device, rule) as the alert manager
 * would open and close them; the engine is fresh per file (a device's history is its own file).
 */
export function replayThroughEngine(config: AnalyticsConfig, ref: DeviceRef, table: CsvTable, metrics: readonly string[]): ReplayResult {
  const engine = new AnalyticsEngine(config.rules, config.energy);
  const tracker = new AlertTracker();
  const unscored = new AlertTracker();
  const { timestamps, values } = table;
  const handle = (events: readonly AnomalyEvent[], row: number): void => {
    for (const e of events) {
      const t = UNSCORED_CATEGORIES.has(e.category) ? unscored : tracker;
      if (e.kind === 'raise') t.raise(e.rule, row);
      else t.clear(e.rule, row);
    }
  };
  for (let row = 0; row < timestamps.length; row++) {
    const ts = timestamps[row]!;
    handle(engine.tick(ts), row);
    const m: Record<string, number> = {};
    for (let c = 0; c < metrics.length; c++) {
      const v = values[c]![row]!;
      if (!Number.isNaN(v)) m[metrics[c]!] = v;
    }
    const batch: TelemetryBatch = { ...ref, seq: row, samples: [{ ts, m }] };
    handle(engine.process(batch, ts).events, row);
  }
  return {
    alerts: tracker.finish(timestamps.length),
    unscoredAlerts: unscored.finish(timestamps.length).length,
    samplesNotNewer: engine.stats().samplesNotNewer,
  };
}

/** The platform as a detector: its engine with the given rules and energy configuration. */
export function engineDetector(name: string, config: AnalyticsConfig): Detector {
  return { name, run: (f: LoadedFile) => replayThroughEngine(config, f.ref, f.table, f.metrics) };
}
