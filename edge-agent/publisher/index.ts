export { GatewayPublisher, gatewayStatusTopic, AGENT_VERSION, type GatewayOptions } from './mqtt-publisher.js';
export { Semaphore } from './semaphore.js';
