export { MqttSource, SUBSCRIPTION, type MqttSourceOptions } from './mqtt-source.js';
export { OrderedAcks } from './ordered-acks.js';
export { AckWindow, connectWithAckWindow, type AckWindowOptions } from './ack-window.js';
export { PublishCounter } from './publish-counter.js';
export { deadLetterMessage } from './dead-letter.js';
export { BrokerStatsWatcher, BROKER_STAT_TOPICS, parseBrokerStat, type BrokerStatsOptions } from './broker-stats.js';
