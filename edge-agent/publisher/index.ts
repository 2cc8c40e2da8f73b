export { GatewayPublisher, AGENT_VERSION, AGENT_INFO, type GatewayOptions, type PublisherStats, type ClientFactory } from './mqtt-publisher.js';
export { gatewayStatusTopic, gatewayRef, GATEWAY_LINE, type StatusMessage, type OfflineReason } from '../../src/contract/index.js';
export { Semaphore } from './semaphore.js';
