export { LiveHub, type LiveHubOptions } from './live-hub.js';
export { registerLiveRoute, LIVE_PATH } from './live-route.js';
export { allowAll, presentedToken, type LiveAuthorizer, type LiveGrant, type LiveRefusal } from './authorize.js';
export { CLOSE, LIVE_PROTOCOL_VERSION, type LiveAccess, type ClientMessage, type ServerMessage, type TelemetryMessage, type AlertMessage } from './protocol.js';
export { Coalescer } from './coalescer.js';
