/**
 * Sparkplug B topics: `spBv1.0/{group_id}/{message_type}/{edge_node_id}[/{device_id}]`, plus the
 * host applications' `spBv1.0/STATE/{host_id}` (Sparkplug 3.0).
 */
export const SPARKPLUG_NAMESPACE = 'spBv1.0';

export const NODE_MESSAGE_TYPES = ['NBIRTH', 'NDEATH', 'NDATA', 'NCMD'] as const;
export const DEVICE_MESSAGE_TYPES = ['DBIRTH', 'DDEATH', 'DDATA', 'DCMD'] as const;
export type NodeMessageType = (typeof NODE_MESSAGE_TYPES)[number];
export type DeviceMessageType = (typeof DEVICE_MESSAGE_TYPES)[number];
export type MessageType = NodeMessageType | DeviceMessageType;

export type SparkplugTopic =
  | { ok: true; type: NodeMessageType; group: string; node: string; device?: undefined }
  | { ok: true; type: DeviceMessageType; group: string; node: string; device: string }
  | { ok: true; type: 'STATE'; hostId: string }
  | { ok: false; reason: string };

const isNodeType = (t: string): t is NodeMessageType => (NODE_MESSAGE_TYPES as readonly string[]).includes(t);
const isDeviceType = (t: string): t is DeviceMessageType => (DEVICE_MESSAGE_TYPES as readonly string[]).includes(t);

export function parseSparkplugTopic(topic: string): SparkplugTopic {
  const parts = topic.split('/');
  if (parts[0] !== SPARKPLUG_NAMESPACE) return { ok: false, reason: `topic must start with ${SPARKPLUG_NAMESPACE}/` };
  if (parts.length === 3 && parts[1] === 'STATE' && parts[2]) return { ok: true, type: 'STATE', hostId: parts[2] };
  const [, group, type, node, device] = parts;
  if (parts.some((p) => p === '')) return { ok: false, reason: 'topic has an empty level' };
  if (group === undefined || type === undefined || node === undefined) return { ok: false, reason: `topic must be ${SPARKPLUG_NAMESPACE}/{group_id}/{message_type}/{edge_node_id}[/{device_id}]` };
  if (parts.length === 4 && isNodeType(type)) return { ok: true, type, group, node };
  if (parts.length === 5 && device !== undefined && isDeviceType(type)) return { ok: true, type, group, node, device };
  if (isNodeType(type) || isDeviceType(type)) return { ok: false, reason: `${type} topics have ${isNodeType(type) ? 4 : 5} levels, this one has ${parts.length}` };
  return { ok: false, reason: `unknown Sparkplug message type ${JSON.stringify(type.slice(0, 40))}` };
}

/** Where a host application asks an edge node to publish its births again. */
export function nodeCommandTopic(group: string, node: string): string {
  return `${SPARKPLUG_NAMESPACE}/${group}/NCMD/${node}`;
}

export function hostStateTopic(hostId: string): string {
  return `${SPARKPLUG_NAMESPACE}/STATE/${hostId}`;
}
