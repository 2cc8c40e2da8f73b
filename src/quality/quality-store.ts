import type Database from 'better-sqlite3';
import { openLocalDb, type Migrations } from '../storage/local-db.js';
import type { DeviceRef } from '../contract/index.js';
import type { DeviceState, StoredDeviceState } from './device-state.js';
import { DeviceRowWriter, storedStateOfRow } from './device-state-row.js';
import type { GatewayStatus } from './device-tracker.js';
import type { StatusState } from '../contract/index.js';

/**
 * Local state of the quality stage, in `PP_DATA_DIR/quality.sqlite`, so the figures survive a
 * restart:
 * - `quality_device`: per device seq state, learned spacing, first/newest sample, last arrival,
 *   status. Saved after every stored batch, before the message is acknowledged: a message the
 *   broker redelivers after a crash is then recognised as a duplicate, not counted twice. Its
 *   numbers are in `packed`, its strings and open gaps in columns of their own
 *   (device-state-row.ts); a row an earlier release saved has the state as JSON in `state`
 *   instead (and `packed` null), and reads as it always did.
 * - `quality_gateway`: each gateway's status and since when.
 * - `quality_window`: per device and hour, the counts, delay histogram and received timestamps
 *   (in the compact form TimeSet.toBuffer writes).
 *   Saved on every flush (PP_QUALITY_FLUSH_S) and on a clean stop; what a crash loses since the
 *   last flush is recounted from InfluxDB on start (quality-restore.ts).
 *
 * WAL with synchronous=NORMAL: a commit survives the process being killed (the write is in the
 * OS), not a power cut; the figures it protects are counts, not acknowledged data, and an fsync
 * per telemetry message would cost more than the message.
 */
const MIGRATIONS: Migrations = [
  // 1: data completeness: devices, gateways, open windows (the schema of every install before versioning).
  `
CREATE TABLE IF NOT EXISTS quality_device (key TEXT PRIMARY KEY, site TEXT NOT NULL, line TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quality_gateway (key TEXT PRIMARY KEY, state TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quality_window (key TEXT NOT NULL, start INTEGER NOT NULL, state TEXT NOT NULL, times BLOB, PRIMARY KEY (key, start));
`,
  // 2: a device's state in columns (device-state-row.ts) rather than JSON in `state` ('' then).
  `
ALTER TABLE quality_device ADD COLUMN packed BLOB;
ALTER TABLE quality_device ADD COLUMN gaps TEXT;
ALTER TABLE quality_device ADD COLUMN status TEXT;
ALTER TABLE quality_device ADD COLUMN status_reason TEXT;
ALTER TABLE quality_device ADD COLUMN gateway TEXT;
`,
];

interface DeviceRowRead {
  site: string;
  line: string;
  device: string;
  state: string;
  packed: Buffer | null;
  gaps: string | null;
  status: string | null;
  status_reason: string | null;
  gateway: string | null;
}

export interface StoredDevice {
  ref: DeviceRef;
  /** As saved: JSON writes a time not yet happened (NEVER) as null, and an older form may lack fields (deviceStateFrom reads both). */
  state: Partial<StoredDeviceState>;
}

export interface StoredWindow {
  key: string;
  start: number;
  state: string;
  times: Buffer | null;
}

export class QualityStore {
  private readonly db: Database.Database;
  private readonly stmts;
  /**
   * Made once: `db.transaction(fn)` builds a new wrapper on each call, and saveDevices runs after
   * every burst of stored messages.
   */
  private readonly saveDevicesTx: (devices: Iterable<{ key: string; ref: DeviceRef; state: DeviceState }>) => void;
  private readonly rows = new DeviceRowWriter();

  constructor(path: string) {
    // Rebuilt from InfluxDB counts when lost (docs/completeness.md): a process crash is what it must survive.
    this.db = openLocalDb(path, MIGRATIONS, { synchronous: 'NORMAL' });
    this.stmts = {
      devices: this.db.prepare<[], DeviceRowRead>('SELECT site, line, device, state, packed, gaps, status, status_reason, gateway FROM quality_device'),
      saveDevice: this.db.prepare(
        "INSERT INTO quality_device (key, site, line, device, state, packed, gaps, status, status_reason, gateway) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?) " +
          "ON CONFLICT (key) DO UPDATE SET state = '', packed = excluded.packed, gaps = excluded.gaps, status = excluded.status, status_reason = excluded.status_reason, gateway = excluded.gateway",
      ),
      gateways: this.db.prepare<[], { key: string; state: string; at: number }>('SELECT key, state, at FROM quality_gateway'),
      saveGateway: this.db.prepare('INSERT INTO quality_gateway (key, state, at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state, at = excluded.at'),
      windows: this.db.prepare<[number], StoredWindow>('SELECT key, start, state, times FROM quality_window WHERE start >= ?'),
      saveWindow: this.db.prepare('INSERT INTO quality_window (key, start, state, times) VALUES (?, ?, ?, ?) ON CONFLICT (key, start) DO UPDATE SET state = excluded.state, times = excluded.times'),
      dropWindows: this.db.prepare('DELETE FROM quality_window WHERE start < ?'),
      deleteDevice: this.db.prepare('DELETE FROM quality_device WHERE key = ?'),
      deleteDeviceWindows: this.db.prepare('DELETE FROM quality_window WHERE key = ?'),
    };
    this.saveDevicesTx = this.db.transaction((devices: Iterable<{ key: string; ref: DeviceRef; state: DeviceState }>) => {
      for (const d of devices) this.saveDevice(d.key, d.ref, d.state);
    });
  }

  devices(): StoredDevice[] {
    return this.stmts.devices.all().map((r) => ({
      ref: { site: r.site, line: r.line, device: r.device },
      state: r.packed === null ? (JSON.parse(r.state) as Partial<StoredDeviceState>) : storedStateOfRow(r.packed, r.gaps, r.status, r.status_reason, r.gateway),
    }));
  }

  saveDevice(key: string, ref: DeviceRef, state: DeviceState): void {
    const row = this.rows.row(state);
    this.stmts.saveDevice.run(key, ref.site, ref.line, ref.device, row.packed, row.gaps, row.status, row.statusReason, row.gateway);
  }

  /** Several devices in one transaction (one WAL commit instead of one per device). */
  saveDevices(devices: Iterable<{ key: string; ref: DeviceRef; state: DeviceState }>): void {
    this.saveDevicesTx(devices);
  }

  gateways(): Map<string, GatewayStatus> {
    return new Map(this.stmts.gateways.all().map((r) => [r.key, { state: r.state as StatusState, at: r.at }]));
  }

  saveGateway(key: string, status: GatewayStatus): void {
    this.stmts.saveGateway.run(key, status.state, status.at);
  }

  windowsSince(start: number): StoredWindow[] {
    return this.stmts.windows.all(start);
  }

  /** Save windows and devices in one transaction, and forget windows older than `dropBefore` (null: not now). */
  saveAll(windows: Iterable<StoredWindow>, devices: readonly { key: string; ref: DeviceRef; state: DeviceState }[], dropBefore: number | null): void {
    this.db.transaction(() => {
      for (const w of windows) this.stmts.saveWindow.run(w.key, w.start, w.state, w.times);
      for (const d of devices) this.saveDevice(d.key, d.ref, d.state);
      if (dropBefore !== null) this.stmts.dropWindows.run(dropBefore);
    })();
  }

  /** A device and its windows (the device is accounted by another worker now). */
  deleteDevice(key: string): void {
    this.db.transaction(() => {
      this.stmts.deleteDevice.run(key);
      this.stmts.deleteDeviceWindows.run(key);
    })();
  }

  close(): void {
    this.db.close();
  }
}
