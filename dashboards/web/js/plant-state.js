/**
 * What the dashboard knows, fed by the live hub and the API: the latest values of every device,
 * the open alerts, and energy figures per site. Views listen to `changes` ('telemetry',
 * 'alerts', 'energy', 'hello') and redraw what they show.
 */
export const state = {
  /** The hub's greeting: access, limits, the plant's UTC offset. */
  hello: null,
  /** `site/line/device` → { site, line, device, key, ts, m, receivedAt (data time, our clock), arrivedAt, intervalMs } */
  devices: new Map(),
  /** id → alert (open ones, and resolved ones for a few seconds so the change is seen). */
  alerts: new Map(),
  /** site → { today, baseline } energy API answers. */
  energy: new Map(),
};

export const changes = new EventTarget();
const emit = (type, detail) => changes.dispatchEvent(new CustomEvent(type, { detail }));

/** How long a resolved alert stays in the feed, greyed, before it leaves. */
const RESOLVED_LINGER_MS = 10_000;

/** Server clock − our clock (ms), from the hub's hello. */
let clockSkewMs = 0;

export function applyHello(msg) {
  state.hello = msg;
  clockSkewMs = msg.serverTime - Date.now();
  emit('hello', msg);
}

export function applyTelemetry(msg) {
  const key = `${msg.site}/${msg.line}/${msg.device}`;
  const known = state.devices.get(key);
  if (known && msg.ts < known.ts) return;
  const now = Date.now();
  // How often this device is heard (smoothed): silence is judged against its own rhythm.
  const gap = known ? now - known.arrivedAt : null;
  const intervalMs = gap === null ? null : known.intervalMs === null ? gap : 0.8 * known.intervalMs + 0.2 * gap;
  // A device's first message is the hub's snapshot of its last values, possibly old: date its
  // arrival by its sample time (on our clock), so a machine silent before we loaded shows silent.
  // A snapshot repeated after a reconnect carries nothing newer and does not make it alive.
  const receivedAt = !known ? Math.min(now, msg.ts - clockSkewMs) : msg.ts > known.ts ? now : known.receivedAt;
  const device = { site: msg.site, line: msg.line, device: msg.device, key, ts: msg.ts, m: { ...known?.m, ...msg.m }, receivedAt, arrivedAt: now, intervalMs };
  state.devices.set(key, device);
  emit('telemetry', { device, update: msg, isNew: !known });
}

/** A transition from the hub (or an acknowledge answer). */
export function applyAlert(alert) {
  const known = state.alerts.get(alert.id);
  if (known && known.updatedAt > alert.updatedAt) return;
  state.alerts.set(alert.id, alert);
  if (alert.state === 'resolved') {
    setTimeout(() => {
      if (state.alerts.get(alert.id)?.state === 'resolved') {
        state.alerts.delete(alert.id);
        emit('alerts');
      }
    }, RESOLVED_LINGER_MS);
  }
  emit('alerts');
}

/** The open alerts from the API; what arrived live since is newer and kept. */
export function setOpenAlerts(list) {
  const ids = new Set(list.map((a) => a.id));
  for (const [id, a] of state.alerts) if (!ids.has(id) && a.state === 'open' && a.updatedAt < Date.now() - 60_000) state.alerts.delete(id);
  for (const a of list) {
    const known = state.alerts.get(a.id);
    if (!known || known.updatedAt <= a.updatedAt) state.alerts.set(a.id, a);
  }
  emit('alerts');
}

export function setEnergy(site, figures) {
  state.energy.set(site, figures);
  emit('energy', { site });
}

export function openAlertsOf(predicate = () => true) {
  return [...state.alerts.values()].filter((a) => a.state === 'open' && predicate(a));
}

/** Local midnight of the plant's day (energy windows align on it), epoch ms. */
export function plantMidnight(now = Date.now()) {
  const offsetMs = (state.hello?.plantUtcOffsetMinutes ?? 480) * 60_000;
  return Math.floor((now + offsetMs) / 86_400_000) * 86_400_000 - offsetMs;
}
