import type { DeviceRef } from '../contract/index.js';
import { deviceStateFrom, storedDeviceState, type StoredDeviceState } from './device-state.js';
import { DeviceTracker } from './device-tracker.js';
import { DeviceWindow } from './device-window.js';
import type { PendingStatus } from './fleet.js';

/**
 * One device's completeness state as plain JSON, for a worker that takes the device over from
 * another (docs/scale-out.md, "Hand-over"): the same device state and hour windows the quality
 * store keeps in SQLite (quality-store.ts), the windows' received timestamps in base64.
 */
export interface QualityDeviceJson {
  ref: DeviceRef;
  /** Times not yet happened are null, as in SQLite (an importer also takes an older form with fields missing). */
  state: StoredDeviceState;
  windows: { start: number; state: string; times: string | null }[];
}

/**
 * A device heard of only through status messages so far (no data yet): its status and gateway,
 * which the next owner needs, since NATS delivers a status message once, as news, to whoever
 * owned the partition then.
 */
export interface QualityPendingJson {
  ref: DeviceRef;
  pending: { status: PendingStatus | null; gateway: string | null };
}

export function exportTracker(t: DeviceTracker): QualityDeviceJson {
  return {
    ref: t.ref,
    state: storedDeviceState(t.state),
    windows: [...t.windows.values()].map((w) => {
      const saved = w.save();
      return { start: w.start, state: saved.state, times: saved.times?.toString('base64') ?? null };
    }),
  };
}

/**
 * The tracker from JSON. Unlike a restart (quality-restore.ts), online time goes on from the
 * exporter's last account: the device was watched all along, by the other worker.
 */
export function importTracker(json: QualityDeviceJson): DeviceTracker {
  const t = new DeviceTracker(json.ref, deviceStateFrom(json.state));
  for (const w of json.windows) {
    const window = DeviceWindow.restore(w.start, w.state, w.times === null ? null : Buffer.from(w.times, 'base64'));
    window.dirty = true; // saved locally and its figures written by the new owner from now on
    t.windows.set(w.start, window);
  }
  t.dirty = true;
  return t;
}
