import { deviceKey, type DeviceRef } from '../../contract/index.js';
import type { MetricOrigin } from './birth-certificate.js';
import type { SparkplugOfflineReason } from './status-message.js';

/** Where a device's data comes from in Sparkplug terms. */
export interface SparkplugOrigin {
  group: string;
  node: string;
  /** Absent for the edge node's own metrics (PlantPulse device `_node`). */
  device?: string;
}

export interface DeviceStatus extends DeviceRef {
  online: boolean;
  /** Epoch ms of the last message about this device (birth, data or death), on the platform's clock. */
  lastSeen: number;
  /** Epoch ms of the last change between online and offline. */
  since: number;
  reason?: SparkplugOfflineReason;
  sparkplug: SparkplugOrigin;
  /** PlantPulse metric → Sparkplug name and stored unit, from the last birth. */
  metrics: Record<string, MetricOrigin>;
}

/**
 * Which Sparkplug devices (and edge nodes, as their `_node` device) are online, since when, and
 * when they were last heard from. Held by the platform (`platform.sparkplug.registry`) for the
 * rest of it to query; answers are copies. In memory: after a restart it fills again from births
 * (an edge node that sends data the platform has no birth for is asked to rebirth).
 */
export class DeviceStatusRegistry {
  private readonly entries = new Map<string, DeviceStatus>();

  get(ref: DeviceRef): DeviceStatus | undefined {
    const e = this.entries.get(deviceKey(ref));
    return e ? copy(e) : undefined;
  }

  list(): DeviceStatus[] {
    return [...this.entries.values()].map(copy);
  }

  counts(): { online: number; offline: number } {
    let online = 0;
    for (const e of this.entries.values()) if (e.online) online++;
    return { online, offline: this.entries.size - online };
  }

  /** The devices (and `_node`) known from this edge node. */
  devicesOfNode(group: string, node: string): DeviceStatus[] {
    return [...this.entries.values()].filter((e) => e.sparkplug.group === group && e.sparkplug.node === node).map(copy);
  }

  /** A birth. Returns true when the device was not online before. */
  markOnline(ref: DeviceRef, origin: SparkplugOrigin, at: number, metrics: Record<string, MetricOrigin>): boolean {
    const key = deviceKey(ref);
    const prev = this.entries.get(key);
    const changed = !prev?.online;
    this.entries.set(key, { site: ref.site, line: ref.line, device: ref.device, online: true, lastSeen: at, since: changed ? at : prev.since, sparkplug: { ...origin }, metrics: { ...metrics } });
    return changed;
  }

  /** A death. Returns true when the device was online before (or not known at all). */
  markOffline(ref: DeviceRef, origin: SparkplugOrigin, at: number, reason: SparkplugOfflineReason): boolean {
    const key = deviceKey(ref);
    const prev = this.entries.get(key);
    const changed = prev?.online !== false;
    this.entries.set(key, { site: ref.site, line: ref.line, device: ref.device, online: false, lastSeen: at, since: changed ? at : prev!.since, reason, sparkplug: prev?.sparkplug ?? { ...origin }, metrics: prev?.metrics ?? {} });
    return changed;
  }

  /** Data arrived for the device. */
  touch(ref: DeviceRef, at: number): void {
    const e = this.entries.get(deviceKey(ref));
    if (e) e.lastSeen = at;
  }
}

function copy(e: DeviceStatus): DeviceStatus {
  return { ...e, sparkplug: { ...e.sparkplug }, metrics: { ...e.metrics } };
}
