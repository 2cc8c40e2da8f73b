import { deviceKey, type DeviceRef, type ParsedStatus, type StatusState } from '../contract/index.js';
import type { QualityConfig } from './config.js';
import { DeviceTracker, type GatewayStatus } from './device-tracker.js';
import type { QualityStore } from './quality-store.js';

export interface PendingStatus {
  state: StatusState;
  at: number;
  reason: string | null;
  gateway: string | null;
}

/** Bound on status remembered for devices that never sent data (a hostile or broken publisher cannot grow it further). */
const MAX_PENDING = 100_000;

/**
 * Who is out there for data completeness: a tracker per device that sent data, each gateway's
 * last status, and which gateway uploads which device (from gateway births). Status heard for
 * devices that have not sent data yet is held until they do.
 */
export class Fleet {
  readonly devices = new Map<string, DeviceTracker>();
  /**
   * Devices restored at start that this process does not account (yet): with several workers
   * (PP_SOURCE=nats) a device belongs to the worker that holds its partition, and a worker that
   * wrote figures, statuses or alerts from its restart's recount of another's devices would
   * overwrite that worker's figures with its own partial ones. A device leaves this set when its
   * data or status comes here (`tracker`, `applyStatus`), or is replaced by a handed-over state.
   */
  readonly parked = new Map<string, DeviceTracker>();
  /** By `site/gatewayId`. */
  readonly gateways = new Map<string, GatewayStatus>();
  /** Status (and gateway membership) heard for devices not sending data yet, by device key. */
  private readonly pending = new Map<string, PendingStatus>();
  private readonly pendingGateway = new Map<string, string>();

  constructor(
    private readonly cfg: QualityConfig,
    private readonly store: QualityStore,
  ) {}

  /** A status message at arrival time `now`: gateway state and membership, or a device's own state (saved at once). */
  applyStatus(p: ParsedStatus, now: number): void {
    if (p.kind === 'gateway') {
      const key = `${p.site}/${p.gateway}`;
      const before = this.gateways.get(key) ?? null;
      // Account each member's time up to now under the gateway state that held so far.
      for (const t of this.devices.values()) if (t.ref.site === p.site && t.state.gateway === p.gateway) t.advance(now, this.cfg, before);
      for (const d of p.devices) this.assignGateway(d, p.gateway, now);
      if (before?.state !== p.state) {
        const status = { state: p.state, at: now };
        this.gateways.set(key, status);
        this.store.saveGateway(key, status);
      }
      return;
    }
    const key = deviceKey(p.ref);
    const t = this.devices.get(key) ?? this.unpark(key);
    if (!t) {
      if (this.pending.size < MAX_PENDING || this.pending.has(key)) {
        const prev = this.pending.get(key);
        this.pending.set(key, { state: p.state, at: prev?.state === p.state ? prev.at : now, reason: p.reason, gateway: p.gateway ?? prev?.gateway ?? null });
      }
      return;
    }
    t.setStatus(p.state, p.reason, p.gateway, now, this.cfg, this.gatewayOf(t));
    this.store.saveDevice(t.key, t.ref, t.state);
    t.dirty = false;
  }

  /** The device's tracker, created on its first data (taking any status heard before). */
  tracker(ref: DeviceRef, now: number): DeviceTracker {
    const key = deviceKey(ref);
    let t = this.devices.get(key) ?? this.unpark(key);
    if (t) return t;
    t = new DeviceTracker(ref);
    this.devices.set(key, t);
    const gw = this.pendingGateway.get(key);
    if (gw !== undefined) t.state.gateway = gw;
    const p = this.pending.get(key);
    if (p) t.setStatus(p.state, p.reason, p.gateway, now, this.cfg, this.gatewayOf(t), p.at);
    this.pending.delete(key);
    this.pendingGateway.delete(key);
    return t;
  }

  /**
   * What was heard of a device that has sent no data here yet: its own status and the gateway
   * a gateway's birth listed it under (null: nothing). Moves with the device (device-hand-over.ts).
   */
  pendingOf(key: string): { status: PendingStatus | null; gateway: string | null } | null {
    const status = this.pending.get(key) ?? null;
    const gateway = this.pendingGateway.get(key) ?? null;
    return status === null && gateway === null ? null : { status, gateway };
  }

  /** Take over what another worker had heard of a device before its data (pendingOf). */
  setPending(key: string, p: { status: PendingStatus | null; gateway: string | null }): void {
    if (this.devices.has(key)) return;
    if (p.status) this.pending.set(key, p.status);
    if (p.gateway !== null) this.pendingGateway.set(key, p.gateway);
  }

  /** Hold back every device known now (restored at start) until it is accounted here (`parked`). */
  park(): void {
    for (const [key, t] of this.devices) this.parked.set(key, t);
    this.devices.clear();
  }

  private unpark(key: string): DeviceTracker | undefined {
    const t = this.parked.get(key);
    if (!t) return undefined;
    this.parked.delete(key);
    this.devices.set(key, t);
    return t;
  }

  private assignGateway(ref: DeviceRef, gateway: string, now: number): void {
    const key = deviceKey(ref);
    const t = this.devices.get(key) ?? this.parked.get(key);
    if (!t) {
      if (this.pendingGateway.size < MAX_PENDING || this.pendingGateway.has(key)) this.pendingGateway.set(key, gateway);
      return;
    }
    if (t.state.gateway === gateway) return;
    t.advance(now, this.cfg, this.gatewayOf(t));
    t.state.gateway = gateway;
    t.dirty = true;
  }

  gatewayOf(t: DeviceTracker): GatewayStatus | null {
    const key = t.gatewayKey;
    return key === null ? null : (this.gateways.get(key) ?? null);
  }
}
