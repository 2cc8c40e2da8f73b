import { deviceTopic, offlineStatus, onlineStatus, type DeviceRef, type StatusMessage } from '../../contract/index.js';
import type { SparkplugOrigin } from './device-status-registry.js';

/**
 * PlantPulse status messages for Sparkplug devices, on the same retained
 * `pp/v1/{site}/{line}/{device}/status` topics and built by the same contract as the edge
 * agent's (src/contract/status-message.ts: `state`, `ts`, `gateway`, `reason`), so whoever watches
 * device status (silence detection) sees one story whichever way a device is connected:
 * a Sparkplug death is reported once, as `offline`, and silence after it is not news.
 * - `gateway` names the edge node (`{group_id}/{edge_node_id}`), as the agent's names its client id;
 * - NDEATH (the edge node's will, or its own goodbye) → `offline`, reason `connection lost`
 *   (as the agent's will), for the node's `_node` device and every device it had;
 * - DDEATH → `offline`, reason `device lost` (the edge node lost the device);
 * - `source: "sparkplug"` and `sparkplug` (the original ids) are extra fields the agent does not send.
 */
export type SparkplugOfflineReason = 'connection lost' | 'device lost';

export interface SparkplugStatusMessage extends StatusMessage {
  ts: number;
  reason?: SparkplugOfflineReason;
  source: 'sparkplug';
  sparkplug: SparkplugOrigin;
}

export function sparkplugStatus(origin: SparkplugOrigin, ts: number, offline?: SparkplugOfflineReason): SparkplugStatusMessage {
  const gateway = `${origin.group}/${origin.node}`;
  const extra = { source: 'sparkplug', sparkplug: { ...origin } };
  return (offline ? offlineStatus(gateway, offline, ts, extra) : onlineStatus(gateway, ts, undefined, extra)) as SparkplugStatusMessage;
}

export function statusTopic(ref: DeviceRef): string {
  return deviceTopic(ref, 'status');
}
