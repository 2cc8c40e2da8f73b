import { deviceTopic, type DeviceRef } from '../../contract/index.js';
import type { SparkplugOrigin } from './device-status-registry.js';

/**
 * PlantPulse status messages for Sparkplug devices, on the same retained
 * `pp/v1/{site}/{line}/{device}/status` topics and in the same shape as the edge agent's
 * (edge-agent/publisher/status.ts: `state`, `ts`, `gateway`, `reason`), so whoever watches
 * device status (silence detection) sees one story whichever way a device is connected:
 * a Sparkplug death is reported once, as `offline`, and silence after it is not news.
 * - `gateway` names the edge node (`{group_id}/{edge_node_id}`), as the agent's names its client id;
 * - NDEATH (the edge node's will, or its own goodbye) → `offline`, reason `connection lost`
 *   (as the agent's will), for the node's `_node` device and every device it had;
 * - DDEATH → `offline`, reason `device lost` (the edge node lost the device);
 * - `source: "sparkplug"` and `sparkplug` (the original ids) are extra fields the agent does not send.
 */
export type SparkplugOfflineReason = 'connection lost' | 'device lost';

export interface SparkplugStatusMessage {
  state: 'online' | 'offline';
  ts: number;
  gateway: string;
  reason?: SparkplugOfflineReason;
  source: 'sparkplug';
  sparkplug: SparkplugOrigin;
}

export function sparkplugStatus(origin: SparkplugOrigin, ts: number, offline?: SparkplugOfflineReason): SparkplugStatusMessage {
  const msg: SparkplugStatusMessage = { state: offline ? 'offline' : 'online', ts, gateway: `${origin.group}/${origin.node}`, source: 'sparkplug', sparkplug: { ...origin } };
  if (offline) msg.reason = offline;
  return msg;
}

export function statusTopic(ref: DeviceRef): string {
  return deviceTopic(ref, 'status');
}
