import type { FastifyError, FastifyInstance } from 'fastify';
import { ERRORS, PlantPulseError, type ErrorCode } from '../contract/index.js';

/** Fastify's own error codes, mapped to ours so every error body has the same shape. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PP_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'PP_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'PP_ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'PP_ERR_INVALID_JSON',
};

/** Every error answers `{ code, message }` with the status of its code. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const code: ErrorCode = err instanceof PlantPulseError ? err.code : (FASTIFY_CODES[err.code] ?? 'PP_ERR_INTERNAL');
    const { status, retryable } = ERRORS[code];
    if (status >= 500) req.log.error({ err }, 'request failed');
    if (retryable) reply.header('retry-after', '1');
    return reply.code(status).send({ code, message: code === 'PP_ERR_INTERNAL' ? ERRORS[code].message : err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'PP_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));
}
