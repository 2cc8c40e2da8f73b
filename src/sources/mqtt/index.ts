export { MqttSource, SUBSCRIPTION, type MqttSourceOptions } from './mqtt-source.js';
export { OrderedAcks } from './ordered-acks.js';
export { deadLetterMessage } from './dead-letter.js';
