import type { AnomalyEvent } from '../alerts/types.js';
import { GATEWAY_LINE, type DeviceRef } from '../contract/index.js';
import type { QualityConfig } from './config.js';
import { DelayPeriods } from './delay-periods.js';
import { NEVER } from './device-state.js';
import type { Fleet } from './fleet.js';
import { percentages } from './figures.js';
import { AlertLatches, deviceOfflineEvent, siteCompletenessEvent, uploadDelayEvent, QUALITY_RULES, SITE_LEVEL } from './quality-alerts.js';
import { rollup } from './rollup.js';
import { dayOf, dayRetained, hourOf, QUALITY_WINDOWS } from './windows.js';

/**
 * The three data alerts (docs/completeness.md, "Data alerts"): a device offline too long, an uploader's p95
 * delay over a period too high, a site's completeness over its last closed window too low.
 * Each is judged on the stage's tick and latched (quality-alerts.ts), so it raises while the
 * condition holds and clears once.
 */
export class DataChecks {
  private readonly latches = new AlertLatches();
  private readonly periods: DelayPeriods;
  /** Latest verdict of each uploader's delay, judged once per period. */
  private readonly delayVerdicts = new Map<string, { ref: DeviceRef; name: string; p95: number; samples: number; fresh: boolean }>();

  /**
   * `deviceAlertsOnly`: judge only what one device's data decides (offline, a device's own upload
   * delay). Set when workers share the devices (PP_SOURCE=nats): a worker holds part of a site's
   * devices and part of a gateway's, so a site's completeness or a gateway's delay judged here
   * would be judged on partial data, by every worker at once.
   */
  constructor(
    private readonly cfg: QualityConfig,
    private readonly fleet: Fleet,
    private readonly deviceAlertsOnly = false,
  ) {
    this.periods = new DelayPeriods(cfg.alerts.delayPeriodMs);
  }

  /** Upload delays of one accepted batch, by its uploader (Fleet.uploader). */
  addDelays(uploader: string, delays: readonly number[], now: number): void {
    if (this.deviceAlertsOnly && uploader.startsWith(GATEWAY_UPLOADER)) return;
    this.periods.add(uploader, delays, now);
  }

  /** Every check's raise and clear events at `now`. */
  events(now: number): AnomalyEvent[] {
    return [...this.offlineEvents(now), ...this.delayEvents(now), ...this.siteEvents(now)];
  }

  private offlineEvents(now: number): AnomalyEvent[] {
    const limit = this.cfg.alerts.offlineAfterMs;
    if (limit <= 0) return [];
    const events: AnomalyEvent[] = [];
    for (const t of this.fleet.devices.values()) {
      const key = `${t.key}/${QUALITY_RULES.deviceOffline}`;
      if (t.state.firstHeard === NEVER) continue;
      if (t.retired(now, this.cfg)) {
        this.latches.drop(key); // no longer judged: an open alert resolves as stale in the manager
        continue;
      }
      const off = t.offline(now, this.cfg, this.fleet.gatewayOf(t));
      const kind = this.latches.judge(key, off !== null && now - off.since >= limit, now);
      if (kind) events.push(deviceOfflineEvent(t.ref, kind, now, off ? now - off.since : 0, limit, off?.reason ?? ''));
    }
    return events;
  }

  private delayEvents(now: number): AnomalyEvent[] {
    const limit = this.cfg.alerts.gatewayDelayP95Ms;
    if (limit <= 0) return [];
    for (const [key, period] of this.periods.takeCompleted(now)) {
      const v = this.delayVerdicts.get(key);
      const p95 = period.delays.percentile(0.95) ?? 0;
      const ref = v?.ref ?? refOfUploader(key);
      this.delayVerdicts.set(key, { ref, name: nameOfUploader(key), p95, samples: period.delays.count, fresh: true });
    }
    const events: AnomalyEvent[] = [];
    for (const [key, v] of this.delayVerdicts) {
      const kind = this.latches.judge(`${key}/${QUALITY_RULES.uploadDelay}`, v.fresh ? v.p95 > limit : null, now);
      v.fresh = false;
      if (kind) events.push(uploadDelayEvent(v.ref, v.name, kind, now, v.p95, limit, v.samples));
    }
    return events;
  }

  private siteEvents(now: number): AnomalyEvent[] {
    const min = this.cfg.alerts.siteMinCompletenessPct;
    if (min <= 0 || this.deviceAlertsOnly) return [];
    const window = this.cfg.alerts.siteWindow;
    const size = QUALITY_WINDOWS[window];
    // The last window whose end is `closeAfter` behind now.
    const start = (window === '1h' ? hourOf(now - this.cfg.closeAfterMs, this.cfg.utcOffsetMs) : dayOf(now - this.cfg.closeAfterMs, this.cfg.utcOffsetMs)) - size;
    if (!dayRetained(dayOf(start, this.cfg.utcOffsetMs), now, this.cfg.lateHorizonMs)) return [];
    const sites = rollup(this.fleet.devices.values(), window, start, now, this.cfg, false).sites;
    const events: AnomalyEvent[] = [];
    for (const [site, f] of sites) {
      const pct = percentages(f).completenessPct;
      if (pct === null) continue;
      const kind = this.latches.judge(`${site}/${SITE_LEVEL}/${SITE_LEVEL}/${QUALITY_RULES.siteCompleteness}`, pct < min, now);
      if (kind) events.push(siteCompletenessEvent(site, kind, now, pct, min, window, start));
    }
    return events;
  }
}

const GATEWAY_UPLOADER = 'gateway:';

function refOfUploader(key: string): DeviceRef {
  const [kind, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  const parts = rest.split('/');
  if (`${kind}:` === GATEWAY_UPLOADER) return { site: parts[0]!, line: GATEWAY_LINE, device: parts[1]! };
  return { site: parts[0]!, line: parts[1]!, device: parts[2]! };
}

function nameOfUploader(key: string): string {
  return key.startsWith(GATEWAY_UPLOADER) ? `gateway ${key.slice(GATEWAY_UPLOADER.length)}` : `device ${key.slice('device:'.length)}`;
}
