import { HOUR_MS, type QualityConfig } from './config.js';
import type { DeviceTracker } from './device-tracker.js';
import { addFigures, emptyFigures, type Figures } from './figures.js';
import { QUALITY_WINDOWS, type QualityWindow } from './windows.js';

/** One window's figures at every level. Keys: `site/line/device`, `site/line`, `site`, `site/gatewayId`. */
export interface Rollup {
  window: QualityWindow;
  start: number;
  devices: Map<string, { tracker: DeviceTracker; figures: Figures }>;
  lines: Map<string, Figures>;
  sites: Map<string, Figures>;
  gateways: Map<string, Figures>;
}

/** A device's figures for a window: its hour, or the sum of the 24 hours of its day. */
export function deviceFigures(t: DeviceTracker, window: QualityWindow, start: number, now: number, cfg: QualityConfig, withDelays = true): Figures {
  if (window === '1h') return t.hourFigures(start, now, cfg, withDelays);
  const f = emptyFigures();
  for (let h = start; h < start + QUALITY_WINDOWS['1d']; h += HOUR_MS) addFigures(f, t.hourFigures(h, now, cfg, withDelays));
  f.devices = f.devices > 0 ? 1 : 0;
  return f;
}

/**
 * Sum devices into lines, sites and gateways. Every device watched counts, including those that
 * sent nothing in the window: a meter that went quiet for the whole hour is exactly what
 * completeness must show. Devices with nothing to say about the window are left out.
 */
export function rollup(trackers: Iterable<DeviceTracker>, window: QualityWindow, start: number, now: number, cfg: QualityConfig, withDelays = true): Rollup {
  const out = emptyRollup(window, start);
  for (const t of trackers) addToRollup(out, t, now, cfg, withDelays);
  return out;
}

export function emptyRollup(window: QualityWindow, start: number): Rollup {
  return { window, start, devices: new Map(), lines: new Map(), sites: new Map(), gateways: new Map() };
}

/** One device into a rollup (`rollup` a device at a time, for work spread over turns of the event loop). */
export function addToRollup(out: Rollup, t: DeviceTracker, now: number, cfg: QualityConfig, withDelays = true): void {
  const f = deviceFigures(t, out.window, out.start, now, cfg, withDelays);
  if (f.devices === 0) return;
  out.devices.set(t.key, { tracker: t, figures: f });
  into(out.lines, `${t.ref.site}/${t.ref.line}`, f);
  into(out.sites, t.ref.site, f);
  if (t.state.gateway !== null) into(out.gateways, `${t.ref.site}/${t.state.gateway}`, f);
}

function into(map: Map<string, Figures>, key: string, f: Figures): void {
  let sum = map.get(key);
  if (!sum) map.set(key, (sum = emptyFigures()));
  addFigures(sum, f);
}
