import { deviceTopic, type DeviceRef } from '../../src/contract/index.js';

/**
 * Status scheme (edge-agent/README.md, "Status topics"):
 * - every device: `pp/v1/{site}/{line}/{device}/status`, retained, QoS 1: `online` on every
 *   (re)connect of its gateway, `offline` (reason `stopped`) on a clean stop;
 * - every gateway (one MQTT connection): `pp/v1/{site}/_gateway/{gatewayId}/status`, retained,
 *   QoS 1: `online` with the agent version and its devices; this topic carries the connection's
 *   last will, `offline` (reason `connection lost`), which the broker publishes when the
 *   connection dies without a DISCONNECT. MQTT allows one will per connection, so a device is
 *   reachable when its own status and its gateway's status are both `online`.
 * `_gateway` is a valid id, so these topics parse like any other; it is reserved as a line id.
 */
export const GATEWAY_LINE = '_gateway';

export type OfflineReason = 'stopped' | 'connection lost';

export interface StatusMessage {
  state: 'online' | 'offline';
  /** Epoch ms when the agent wrote it (absent from the will, which is written at connect time). */
  ts?: number;
  /** The gateway (MQTT client id) that publishes this device. */
  gateway: string;
  agent?: { version: string };
  reason?: OfflineReason;
  /** Gateway birth only: the devices behind this gateway, as `line/device`. */
  devices?: string[];
}

export function gatewayRef(site: string, gatewayId: string): DeviceRef {
  return { site, line: GATEWAY_LINE, device: gatewayId };
}

/** `pp/v1/{site}/_gateway/{gatewayId}/status`: the gateway's own retained status (and last will). */
export function gatewayStatusTopic(site: string, gatewayId: string): string {
  return deviceTopic(gatewayRef(site, gatewayId), 'status');
}

export function onlineStatus(gateway: string, version: string, ts: number, devices?: DeviceRef[]): StatusMessage {
  const msg: StatusMessage = { state: 'online', ts, gateway, agent: { version } };
  if (devices) msg.devices = devices.map((d) => `${d.line}/${d.device}`);
  return msg;
}

export function offlineStatus(gateway: string, version: string, reason: OfflineReason, ts?: number): StatusMessage {
  const msg: StatusMessage = { state: 'offline', gateway, agent: { version }, reason };
  if (ts !== undefined) msg.ts = ts;
  return msg;
}
