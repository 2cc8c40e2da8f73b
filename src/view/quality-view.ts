import type { DeviceRef } from '../contract/index.js';
import type { DeviceQualityStatus } from '../quality/index.js';
import type { PublishedStatus } from './quality-publisher.js';

/**
 * An API node's device status (completeness now), from what workers published: the answer of
 * `GET /api/v1/quality`'s `deviceStatus`, for every device of the fleet.
 *
 * When a partition moves, the old owner may still report the devices it no longer hears from
 * (as going silent); the status with the newest arrival (`lastSeen`) wins, and at equal arrival
 * the newest report. A report without a gateway keeps the gateway known from earlier ones. A device whose owner died reports nothing more: past `silenceMs` since its
 * last arrival it is shown offline (`silent`), as its worker would have.
 */
export class QualityView {
  private readonly devices = new Map<string, PublishedStatus>();

  constructor(
    private readonly silenceMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get size(): number {
    return this.devices.size;
  }

  /** Returns whether the status was taken. */
  apply(ref: DeviceRef, status: PublishedStatus): boolean {
    const key = `${ref.site}/${ref.line}/${ref.device}`;
    const known = this.devices.get(key);
    if (known) {
      const [a, b] = [status.lastSeen ?? -Infinity, known.lastSeen ?? -Infinity];
      if (a < b || (a === b && status.reportedAt <= known.reportedAt)) return false;
    }
    // A new owner that heard no status of the device yet reports no gateway: the one known stays.
    this.devices.set(key, { ...status, ...ref, gateway: status.gateway ?? known?.gateway ?? null });
    return true;
  }

  statusOf(site: string, line?: string): DeviceQualityStatus[] {
    const now = this.clock();
    const out: DeviceQualityStatus[] = [];
    for (const s of this.devices.values()) {
      if (s.site !== site || (line !== undefined && s.line !== line)) continue;
      const { reportedAt: _reportedAt, ...status } = s;
      const silentSince = status.lastSeen === null ? null : status.lastSeen + this.silenceMs;
      if (status.online && !status.retired && silentSince !== null && now >= silentSince) out.push({ ...status, online: false, offlineSince: silentSince, offlineReason: 'silent' });
      else out.push(status);
    }
    return out.sort((a, b) => (a.line === b.line ? a.device.localeCompare(b.device) : a.line.localeCompare(b.line)));
  }
}
