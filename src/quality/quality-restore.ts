import type { Logger } from '../observability/index.js';
import type { HistoryReader } from '../storage/index.js';
import { HOUR_MS, type QualityConfig } from './config.js';
import { deviceStateFrom } from './device-state.js';
import { DeviceTracker } from './device-tracker.js';
import { DeviceWindow } from './device-window.js';
import type { Fleet } from './fleet.js';
import type { QualityStore } from './quality-store.js';
import { storedSampleCounts } from './restore-counts.js';
import { firstRetainedDay } from './windows.js';

export interface RestoreOptions {
  fleet: Fleet;
  store: QualityStore;
  history: HistoryReader;
  cfg: QualityConfig;
  log: Logger;
}

/**
 * Rebuild the fleet at start-up from local state (quality.sqlite) and stored telemetry: samples
 * InfluxDB holds but local state does not (stored just before a crash, or a lost data dir)
 * count as received.
 */
export async function restoreQualityState(o: RestoreOptions, now: number): Promise<void> {
const { fleet, store, history, cfg, log } = o;
  for (const d of store.devices()) {
    // The time the platform was down was not watched: online time restarts now.
    const t = new DeviceTracker(d.ref, deviceStateFrom({ ...d.state, lastAdvance: now }));
    t.watchedAgainAt = now;
    t.dirty = false;
    fleet.devices.set(t.key, t);
  }
  for (const [k, g] of store.gateways()) fleet.gateways.set(k, g);
  const firstDay = firstRetainedDay(now, cfg);
  for (const w of store.windowsSince(firstDay)) {
    const t = fleet.devices.get(w.key);
    if (t) t.windows.set(w.start, DeviceWindow.restore(w.start, w.state, w.times));
  }
  let recounted = 0;
  if (history.available) {
    try {
      const counts = await storedSampleCounts(history, firstDay, now + HOUR_MS, cfg.utcOffsetMs);
      for (const [key, hours] of counts) recounted += recount(fleet, cfg, key, hours, now);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not read stored telemetry counts; quality figures restart from local state only');
    }
  }
  // Rewrite every retained window once: what closed while the platform was down, and what the recount changed.
  for (const t of fleet.devices.values()) for (const w of t.windows.values()) w.dirty = true;
  log.info({ devices: fleet.devices.size, gateways: fleet.gateways.size, recounted }, 'quality state restored');
}

/** After a restart: samples stored but not in local state (stored just before a crash) count as received. */
function recount(fleet: Fleet, cfg: QualityConfig, key: string, hours: Map<number, number>, now: number): number {
  let t = fleet.devices.get(key);
  if (!t) {
    // Local state lost (a new data dir): rebuild what the counts can tell.
    const [site, line, device] = key.split('/') as [string, string, string];
    t = new DeviceTracker({ site, line, device });
    const starts = [...hours.keys()];
    t.state.firstTs = Math.min(...starts);
    t.state.newestTs = Math.max(...starts);
    fleet.devices.set(key, t);
  }
  let added = 0;
  for (const [hour, n] of hours) {
    const w = t.window(hour, now, cfg);
    if (!w || n <= w.counts.received) continue;
    added += n - w.counts.received;
    w.counts.received = n;
    w.timesComplete = false; // these samples' timestamps (and delays) are not known here
  }
  return added;
}
