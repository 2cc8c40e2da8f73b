/**
 * Every error PlantPulse reports, with a stable code, HTTP status and retryability.
 * Codes are part of the public contract (HTTP bodies, dead-letter messages, metrics labels):
 * never rename one; add new ones. Documented in docs/errors.md (a test keeps both in step).
 */
export const ERRORS = {
  PP_ERR_BODY_TOO_LARGE: { status: 413, retryable: false, message: 'body exceeds the size limit' },
  PP_ERR_INVALID_JSON: { status: 400, retryable: false, message: 'body is not valid UTF-8 JSON' },
  PP_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, message: 'content type must be application/json' },
  PP_ERR_INVALID_TOPIC: { status: 400, retryable: false, message: 'topic does not match pp/v1/{site}/{line}/{device}/{kind}' },
  PP_ERR_INVALID_ID: { status: 400, retryable: false, message: 'site, line and device ids must match [A-Za-z0-9_-]{1,64}' },
  PP_ERR_INVALID_ENVELOPE: { status: 400, retryable: false, message: 'payload must be { seq: uint, samples: [...] }' },
  PP_ERR_TOO_MANY_SAMPLES: { status: 400, retryable: false, message: 'too many samples in one message' },
  PP_ERR_INVALID_SAMPLE: { status: 400, retryable: false, message: 'sample must be { ts, m }' },
  PP_ERR_INVALID_TIMESTAMP: { status: 400, retryable: false, message: 'ts must be an integer epoch in milliseconds' },
  PP_ERR_FUTURE_TIMESTAMP: { status: 400, retryable: false, message: 'ts is further in the future than the allowed clock skew' },
  PP_ERR_INVALID_METRIC_NAME: { status: 400, retryable: false, message: 'metric names must match [A-Za-z][A-Za-z0-9_]{0,63}' },
  PP_ERR_INVALID_VALUE: { status: 400, retryable: false, message: 'metric values must be finite JSON numbers' },
  PP_ERR_EMPTY_SAMPLE: { status: 400, retryable: false, message: 'sample has no metrics' },
  PP_ERR_TOO_MANY_METRICS: { status: 400, retryable: false, message: 'sample has too many metrics' },
  PP_ERR_NO_VALID_SAMPLES: { status: 400, retryable: false, message: 'no sample in the message was valid' },
  PP_ERR_LINE_PROTOCOL_SYNTAX: { status: 400, retryable: false, message: 'line is not valid InfluxDB line protocol' },
  PP_ERR_UNSUPPORTED_FIELD_TYPE: { status: 400, retryable: false, message: 'string field values are not stored: PlantPulse metrics are numbers' },
  PP_ERR_INVALID_WRITE_PARAMETER: { status: 400, retryable: false, message: 'write query parameters are missing or invalid (db, bucket, precision)' },
  PP_ERR_UNSUPPORTED_CONTENT_ENCODING: { status: 415, retryable: false, message: 'Content-Encoding must be gzip or absent' },
  PP_ERR_INVALID_GZIP: { status: 400, retryable: false, message: 'Content-Encoding is gzip but the body is not valid gzip' },
  PP_ERR_SPARKPLUG_TOPIC: { status: 400, retryable: false, message: 'topic does not match spBv1.0/{group_id}/{message_type}/{edge_node_id}[/{device_id}]' },
  PP_ERR_SPARKPLUG_PAYLOAD: { status: 400, retryable: false, message: 'payload is not a valid Sparkplug B payload' },
  PP_ERR_SPARKPLUG_NO_BIRTH: { status: 409, retryable: true, message: 'no birth certificate for this Sparkplug edge node, device or metric; a rebirth was requested' },
  PP_ERR_NOT_FOUND: { status: 404, retryable: false, message: 'no such route' },
  PP_ERR_NOT_ON_THIS_NODE: { status: 404, retryable: false, message: 'this route is served by nodes of another role' },
  PP_ERR_BAD_REQUEST: { status: 400, retryable: false, message: 'the HTTP request is malformed' },
  PP_ERR_HEADERS_TOO_LARGE: { status: 431, retryable: false, message: 'the request line and headers exceed 16 KiB' },
  PP_ERR_REQUEST_TIMEOUT: { status: 408, retryable: true, message: 'the request did not arrive completely in time' },
  PP_ERR_INVALID_QUERY: { status: 400, retryable: false, message: 'invalid query parameters' },
  PP_ERR_UNKNOWN_ALERT: { status: 404, retryable: false, message: 'no alert with that id' },
  PP_ERR_NO_HISTORY: { status: 503, retryable: false, message: 'the platform runs without storage (no InfluxDB): there is no history to query' },
  PP_ERR_QUERY_FAILED: { status: 502, retryable: true, message: 'the storage query failed' },
  PP_ERR_UNAUTHORIZED: { status: 401, retryable: false, message: 'no valid API token' },
  PP_ERR_FORBIDDEN: { status: 403, retryable: false, message: "this token's role does not allow this" },
  PP_ERR_SITE_FORBIDDEN: { status: 403, retryable: false, message: "the site is outside this token's scope" },
  PP_ERR_TOO_MANY_AUTH_FAILURES: { status: 429, retryable: true, message: 'too many failed authentications from this address or for this token id (a valid token is still accepted)' },
  PP_ERR_INVALID_BODY: { status: 400, retryable: false, message: 'invalid request body' },
  PP_ERR_UNKNOWN_SUBSCRIPTION: { status: 404, retryable: false, message: 'no subscription with that id' },
  PP_ERR_STORAGE_UNAVAILABLE: { status: 503, retryable: true, message: 'storage is not accepting writes; retry later' },
  PP_ERR_SHUTTING_DOWN: { status: 503, retryable: true, message: 'the platform is shutting down; retry later' },
  PP_ERR_FLEET_UNAVAILABLE: { status: 503, retryable: true, message: 'NATS did not take the change, which the other API nodes must see; retry later' },
  PP_ERR_INTERNAL: { status: 500, retryable: true, message: 'internal error' },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error that carries a PlantPulse code; thrown by code that wants a coded HTTP answer. */
export class PlantPulseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message);
    this.name = 'PlantPulseError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
  }
}
