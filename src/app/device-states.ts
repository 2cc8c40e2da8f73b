import type { AlertManager } from '../alerts/index.js';
import type { Alert } from '../alerts/types.js';
import type { AnalyticsEngine, DeviceStateJson } from '../analytics/index.js';
import { deviceKey, type DeviceRef } from '../contract/index.js';
import type { QualityDeviceJson, QualityPendingJson, QualityStage } from '../quality/index.js';
import type { DeviceStates } from '../sources/nats/index.js';

/** What moves with a device when its partition moves to another worker (docs/scale-out.md, "Hand-over"). */
interface HandedOverDevice {
  analytics: DeviceStateJson | null;
  /** Its open alerts: the next owner continues them (same ids) instead of opening new ones. */
  alerts: Alert[];
  /** Completeness state, or (no data yet) the status and gateway heard of it. */
  quality: QualityDeviceJson | QualityPendingJson | null;
}

/** The analytics engine's, the alert manager's and data completeness' state of a device, as one JSON value. */
export function deviceStates(engine: AnalyticsEngine, alerts: AlertManager, quality: QualityStage | null): DeviceStates {
  return {
    export(ref: DeviceRef): HandedOverDevice | null {
      const key = deviceKey(ref);
      const state: HandedOverDevice = { analytics: engine.exportDevice(key), alerts: alerts.openOf(ref.site, ref.line, ref.device), quality: quality?.exportDevice(key, ref) ?? null };
      return state.analytics === null && state.alerts.length === 0 && state.quality === null ? null : state;
    },
    import(ref: DeviceRef, value: unknown): void {
      const state = value as Partial<HandedOverDevice>;
      if (typeof state !== 'object' || state === null) throw new Error(`device state of ${deviceKey(ref)} is not an object`);
      if (state.analytics) engine.importDevice(state.analytics);
      else engine.forgetDevice(deviceKey(ref));
      // Only the owner judges a device's alerts: exactly the handed-over ones are open here now.
      alerts.takeOver(ref.site, ref.line, ref.device, state.alerts ?? []);
      if (state.quality) quality?.importDevice(state.quality);
    },
    isNewer(ref: DeviceRef, saved: unknown): boolean {
      const mine = engine.lastTsOf(deviceKey(ref));
      const theirs = (saved as Partial<HandedOverDevice> | null)?.analytics?.lastTs ?? null;
      return mine === null || (theirs !== null && theirs > mine);
    },
    claim(ref: DeviceRef): void {
      alerts.loadOpenOf(ref.site, ref.line, ref.device);
    },
    forget(ref: DeviceRef): void {
      const key = deviceKey(ref);
      engine.forgetDevice(key);
      alerts.forget(ref.site, ref.line, ref.device);
      quality?.forgetDevice(key);
    },
  };
}
