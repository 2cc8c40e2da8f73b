import { formatDuration, formatNumber } from '../analytics/detectors/messages.js';
import type { AnomalyEvent, Message } from '../alerts/types.js';
import type { DeviceRef } from '../contract/index.js';

/**
 * The data alerts (category `data`), as anomaly events for the ordinary AlertManager, so they
 * dedupe, resolve, flap-damp, store and notify like every other alert:
 * - `site-completeness-low` on `{site}/_site/_site`: the site's completeness over the last closed window;
 * - `upload-delay-high` on `{site}/_gateway/{gatewayId}` (a device without a known gateway: on
 *   the device): upload delay p95 over the last arrival period;
 * - `device-offline` on the device: offline (status or silence) for at least the configured time.
 *
 * A condition that holds is raised again every REPEAT_MS (the alert's last seen moves on, so the
 * manager never resolves it as stale while it holds); a condition that ends is cleared once.
 */
export const QUALITY_RULES = { siteCompleteness: 'site-completeness-low', uploadDelay: 'upload-delay-high', deviceOffline: 'device-offline' } as const;
/** Line and device ids of site-level alerts (valid ids, so the alerts topic `pp/v1/{site}/_site/_site/alerts` parses). */
export const SITE_LEVEL = '_site';
export const REPEAT_MS = 30_000;

type Kind = 'raise' | 'clear';

interface Latch {
  raised: boolean;
  lastRaise: number;
}

/** Remembers which conditions are raised, to raise again only now and then and to clear once. */
export class AlertLatches {
  private readonly latches = new Map<string, Latch>();

  /**
   * `holds` true: a raise when first seen or every REPEAT_MS; false: a clear when it was raised
   * (or when unknown, e.g. after a restart: an alert left open by the previous run must close).
   * null: no evidence either way (nothing changes).
   */
  judge(key: string, holds: boolean | null, now: number): Kind | null {
    if (holds === null) {
      const l = this.latches.get(key);
      if (l?.raised && now - l.lastRaise >= REPEAT_MS) {
        l.lastRaise = now;
        return 'raise';
      }
      return null;
    }
    const l = this.latches.get(key);
    if (holds) {
      if (l?.raised && now - l.lastRaise < REPEAT_MS) return null;
      this.latches.set(key, { raised: true, lastRaise: now });
      return 'raise';
    }
    if (l && !l.raised) return null;
    this.latches.set(key, { raised: false, lastRaise: l?.lastRaise ?? 0 });
    return 'clear';
  }

  /** Forget a key (a retired device: its open alert resolves as stale in the manager). */
  drop(key: string): void {
    this.latches.delete(key);
  }
}

function event(ref: DeviceRef, rule: string, metric: string, kind: Kind, now: number, value: number, threshold: number, message: Message): AnomalyEvent {
  return { ...ref, rule, metric, category: 'data', severity: 'warning', kind, ts: now, value, threshold, message };
}

export function siteCompletenessEvent(site: string, kind: Kind, now: number, pct: number, minPct: number, window: string, windowStart: number): AnomalyEvent {
  const at = new Date(windowStart).toISOString();
  const v = `${formatNumber(pct)} %`;
  const m = `${formatNumber(minPct)} %`;
  const message =
    kind === 'raise'
      ? { en: `site ${site}: data completeness ${v} over the ${window} window from ${at}, below ${m}`, zh: `站点 ${site}：${at} 起 ${window} 窗口数据完整率 ${v}，低于 ${m}` }
      : { en: `site ${site}: data completeness ${v} over the ${window} window from ${at}, back at or above ${m}`, zh: `站点 ${site}：${at} 起 ${window} 窗口数据完整率 ${v}，已恢复至 ${m} 以上` };
  return event({ site, line: SITE_LEVEL, device: SITE_LEVEL }, QUALITY_RULES.siteCompleteness, 'completeness_pct', kind, now, pct, minPct, message);
}

export function uploadDelayEvent(ref: DeviceRef, uploader: string, kind: Kind, now: number, p95Ms: number, limitMs: number, samples: number): AnomalyEvent {
  const v = formatDuration(p95Ms);
  const l = formatDuration(limitMs);
  const message =
    kind === 'raise'
      ? { en: `${uploader}: upload delay p95 ${v.en} over ${samples} samples, above ${l.en}`, zh: `${uploader}：上传延迟 p95 ${v.zh}（${samples} 个样本），超过 ${l.zh}` }
      : { en: `${uploader}: upload delay p95 ${v.en}, back within ${l.en}`, zh: `${uploader}：上传延迟 p95 ${v.zh}，已恢复至 ${l.zh} 以内` };
  return event(ref, QUALITY_RULES.uploadDelay, 'upload_delay_p95_s', kind, now, p95Ms / 1000, limitMs / 1000, message);
}

export function deviceOfflineEvent(ref: DeviceRef, kind: Kind, now: number, offlineMs: number, limitMs: number, reason: string): AnomalyEvent {
  const d = formatDuration(offlineMs);
  const name = `${ref.site}/${ref.line}/${ref.device}`;
  const why = { status: { en: 'its status says offline', zh: '设备状态为离线' }, gateway: { en: 'its gateway is offline', zh: '所属网关离线' }, silent: { en: 'no data', zh: '无数据上报' } }[reason] ?? { en: reason, zh: reason };
  const message =
    kind === 'raise'
      ? { en: `${name} offline for ${d.en} (${why.en})`, zh: `${name} 已离线 ${d.zh}（${why.zh}）` }
      : { en: `${name} back online`, zh: `${name} 已恢复在线` };
  return event(ref, QUALITY_RULES.deviceOffline, 'offline_min', kind, now, offlineMs / 60_000, limitMs / 60_000, message);
}
