export * from './types.js';
export { alertId, alertKey } from './alert-id.js';
export { AlertStore } from './alert-store.js';
export { AlertManager, DEFAULT_ALERT_OPTIONS, type AlertManagerOptions } from './alert-manager.js';
export { AlertRaiser } from './alert-raiser.js';
export { alertPoint } from './alert-points.js';
export { AlertFanout, type AlertNotifier } from './notifier.js';
export { MqttAlertNotifier, alertMessage } from './mqtt-notifier.js';
