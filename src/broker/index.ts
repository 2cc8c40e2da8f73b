export { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
export { brokerAuthHooks, INTERNAL_USERNAME, newInternalCredential, type BrokerAuthOptions, type InternalCredential } from './broker-auth.js';
export { mayPublish, mayReceive, maySubscribe, type AclDecision, type BrokerIdentity } from './topic-acl.js';
