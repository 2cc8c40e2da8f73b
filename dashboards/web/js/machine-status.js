import { t } from './strings.js';

/** The contract's `state` metric: 0 stopped, 1 idle, 2 running, 3 fault. */
const STATES = { 0: 'stopped', 1: 'idle', 2: 'running', 3: 'fault' };
const LABELS = { running: 'stateRunning', idle: 'stateIdle', stopped: 'stateStopped', fault: 'stateFault', unknown: 'stateUnknown' };

/** Nothing heard for this long (or three of the device's usual intervals, within 3–60 s): shown as silent. */
export const STALE_MS = 15_000;

function staleAfter(device) {
  return device.intervalMs ? Math.min(60_000, Math.max(3000, 3 * device.intervalMs)) : STALE_MS;
}

/**
 * A device's state for display: its `state` metric, and whether it went quiet: nothing received
 * for a while (`receivedAt` is on our clock, so a browser or gateway clock that is off does not
 * paint the plant grey), or an open silence alert among `alerts` (the device's open alerts).
 */
export function statusOf(device, now = Date.now(), alerts = []) {
  const name = STATES[device.m.state] ?? 'unknown';
  const silentMs = now - device.receivedAt;
  return { name, label: t(LABELS[name]), stale: silentMs > staleAfter(device) || alerts.some(isSilenceAlert), silentMs };
}

/** The platform's silence detector (rules on metric `*`) has this device open: it is silent, whatever we saw. */
export function isSilenceAlert(alert) {
  return alert.state === 'open' && alert.metric === '*';
}
