import { join } from 'node:path';
import type { AlertRaiser } from '../alerts/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { HistoryReader } from '../storage/index.js';
import type { Point } from '../storage/point.js';
import type { QualityConfig } from './config.js';
import { createQualityMetrics } from './quality-metrics.js';
import { QualityStage } from './quality-stage.js';
import { QualityStore } from './quality-store.js';

export interface StartQualityOptions {
  config: QualityConfig;
  dataDir: string;
  history: HistoryReader;
  writer: { write(points: Point[]): Promise<void> };
  alerts: AlertRaiser;
  metrics: Metrics;
  log: Logger;
  clock?: () => number;
  /** Workers share the devices (PP_SOURCE=nats): see QualityStageDeps.restoredDevicesParked, devicePointsOnly and deviceAlertsOnly. */
  restoredDevicesParked?: boolean;
}

/**
 * The quality stage, wired as the platform needs it (kept here so the platform's wiring stays a
 * few lines): local state in `quality.sqlite` under the data dir, metrics on the platform's
 * registry, data alerts through the platform's AlertRaiser, state restored before
 * intake starts. The caller feeds it (`accept`, `status`), starts its tick and stops it.
 */
export async function startQualityStage(o: StartQualityOptions): Promise<QualityStage> {
  const store = new QualityStore(join(o.dataDir, 'quality.sqlite'));
  let stage: QualityStage | null = null;
  const metrics = createQualityMetrics(o.metrics.registry, {
    devices: () => stage?.counts().devices ?? 0,
    online: () => stage?.counts().online ?? 0,
    missingMessages: () => stage?.counts().missingMessages ?? 0,
    timestampBytes: () => stage?.timestampBytes() ?? 0,
  });
  stage = new QualityStage({
    config: o.config,
    store,
    history: o.history,
    write: (points) => o.writer.write(points),
    raise: (events) => {
      try {
        o.alerts.raise(events);
      } catch (err) {
        o.log.error({ err }, 'data alerts could not be handled');
      }
    },
    metrics,
    log: o.log,
    clock: o.clock,
    restoredDevicesParked: o.restoredDevicesParked,
    devicePointsOnly: o.restoredDevicesParked,
    deviceAlertsOnly: o.restoredDevicesParked,
  });
  try {
    await stage.restore();
  } catch (err) {
    store.close();
    throw err;
  }
  return stage;
}
