import { hostStateTopic } from './topic.js';

/**
 * Sparkplug 3.0 primary host application STATE: `spBv1.0/STATE/{host_id}`, retained, QoS 1,
 * `{"online": true|false, "timestamp": <ms>}`. Edge nodes configured with this host id publish
 * only while it is online and store and forward (as `is_historical`) while it is not: the way to
 * keep a platform restart from losing QoS 0 Sparkplug data. The death is the connection's will,
 * with the same timestamp as the birth, so edge nodes can tell a stale death from a current one.
 */
export function hostStateMessage(hostId: string, online: boolean, timestamp: number): { topic: string; payload: string } {
  return { topic: hostStateTopic(hostId), payload: JSON.stringify({ online, timestamp }) };
}
