export { registerLineProtocolRoutes, type LineProtocolRouteOptions } from './write-routes.js';
export { parseLineProtocol, type ParseResult } from './parse-line-protocol.js';
export { toTelemetryBatches, type LineProtocolBatches } from './to-batches.js';
export { DEFAULT_LINE_PROTOCOL_MAPPING, type LineProtocolMapping } from './mapping.js';
export { timestampToMs, V1_PRECISIONS, V2_PRECISIONS, type Precision } from './timestamp.js';
export { ACCEPT_ALL_WRITERS, isWriteDenial, type WriteAuthorizer, type WriteClient, type WriteCredentials, type WriteDenial, type WriteGrant, type WriteTarget } from './write-auth.js';
export type { LineRejection } from './line-rejection.js';
export type { FieldValue, LinePart, LineSyntaxError, ParsedField, ParsedPoint } from './parsed-point.js';
