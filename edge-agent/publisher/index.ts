export { GatewayPublisher, AGENT_VERSION, type GatewayOptions, type PublisherStats, type ClientFactory } from './mqtt-publisher.js';
export { gatewayStatusTopic, gatewayRef, GATEWAY_LINE, type StatusMessage, type OfflineReason } from './status.js';
export { Semaphore } from './semaphore.js';
