import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERRORS, PlantPulseError, type ErrorCode } from '../contract/index.js';
import { servedElsewhere, type Role } from './role-routes.js';

/** Fastify's own error codes, mapped to ours so every error body has the same shape. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PP_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'PP_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'PP_ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'PP_ERR_INVALID_JSON',
};

function codeOf(err: FastifyError): ErrorCode {
  if (err instanceof PlantPulseError) return err.code;
  const known = Object.hasOwn(FASTIFY_CODES, err.code) ? FASTIFY_CODES[err.code] : undefined;
  if (known) return known;
  // Any other client-side error (Fastify's or Node's, e.g. a body cut short by the client) is
  // the request's fault: a 400, not a 500 and an error in the log.
  return err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? 'PP_ERR_BAD_REQUEST' : 'PP_ERR_INTERNAL';
}

/** Every error answers `{ code, message }` with the status of its code; a route of another role says so (role-routes.ts). */
export function installErrorHandlers(app: FastifyInstance, role: Role = 'all'): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const code = codeOf(err);
    const { status, retryable } = ERRORS[code];
    if (status >= 500) req.log.error({ err }, 'request failed');
    if (retryable) reply.header('retry-after', '1');
    return reply.code(status).send({ code, message: code === 'PP_ERR_INTERNAL' ? ERRORS[code].message : err.message });
  });
  app.setNotFoundHandler((req, reply) => {
    const elsewhere = servedElsewhere(role, req.method, req.url);
    if (elsewhere) return reply.code(ERRORS.PP_ERR_NOT_ON_THIS_NODE.status).send({ code: 'PP_ERR_NOT_ON_THIS_NODE', message: elsewhere });
    return reply.code(404).send({ code: 'PP_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` });
  });
}

/**
 * Fastify's `frameworkErrors`: errors found while routing, before any handler or error handler
 * (a malformed %-escape in the path, a path segment over 100 characters). Without it Fastify
 * answers them in its own shape.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const code: ErrorCode = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'PP_ERR_BAD_REQUEST' : 'PP_ERR_INTERNAL';
  reply.code(ERRORS[code].status).send({ code, message: code === 'PP_ERR_INTERNAL' ? ERRORS[code].message : err.message });
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request (bad
 * request line or headers, headers over 16 KiB) and requests that did not arrive within the
 * timeouts (http-limits.ts). The answer is written on the raw socket, which is then closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'PP_ERR_REQUEST_TIMEOUT' : err.code === 'HPE_HEADER_OVERFLOW' ? 'PP_ERR_HEADERS_TOO_LARGE' : 'PP_ERR_BAD_REQUEST';
  const { status, message } = ERRORS[code];
  const body = JSON.stringify({ code, message });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
