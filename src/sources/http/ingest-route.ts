import type { FastifyInstance, FastifyReply } from 'fastify';
import { decodeHttpBody, ERRORS, type DecodeLimits, type DecodeResult, type DeviceRef } from '../../contract/index.js';
import type { Pipeline } from '../../pipeline/index.js';

/**
 * HTTP ingest: the same body and the same decoder as MQTT.
 * `POST /api/v1/ingest` with site/line/device in the body, or
 * `POST /api/v1/ingest/{site}/{line}/{device}`.
 * 200: every sample stored. 200 with `rejected > 0`: the valid samples were stored, each bad one is
 * listed. 4xx: nothing stored, with the reasons. The answer comes only once the data is durable.
 */
export function registerIngestRoutes(app: FastifyInstance, pipeline: Pipeline, limits: DecodeLimits): void {
  const handle = async (body: unknown, pathRef: Partial<DeviceRef>, reply: FastifyReply) => {
    if (pipeline.saturated) {
      // Backpressure: refuse before decoding, so a flood costs as little as possible.
      pipeline.throttled();
      return reply.code(503).header('retry-after', '5').send({ code: 'PP_ERR_STORAGE_UNAVAILABLE', message: 'storage and spool cannot keep up; retry after the Retry-After delay' });
    }
    const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    const result = decodeHttpBody(raw, pathRef, limits);
    pipeline.account('http', result);
    return answer(result, reply, pipeline);
  };
  app.post('/api/v1/ingest', async (req, reply) => handle(req.body, {}, reply));
  app.post<{ Params: DeviceRef }>('/api/v1/ingest/:site/:line/:device', async (req, reply) => handle(req.body, req.params, reply));
}

async function answer(result: DecodeResult, reply: FastifyReply, pipeline: Pipeline) {
  if (result.batch === null) {
    const first = result.rejections[0]!;
    return reply.code(ERRORS[first.code].status).send({ code: first.code, message: first.reason, rejections: result.rejections });
  }
  const accepted = result.batch.samples.length;
  if (accepted === 0) {
    return reply.code(400).send({ code: 'PP_ERR_NO_VALID_SAMPLES', message: ERRORS.PP_ERR_NO_VALID_SAMPLES.message, accepted: 0, rejected: result.rejections.length, rejections: result.rejections });
  }
  await pipeline.ingest('http', result.batch);
  return reply.code(200).send({
    accepted,
    rejected: result.rejections.length,
    ...(result.rejections.length > 0 ? { rejections: result.rejections } : {}),
    ...(result.unknownMetrics.length > 0 ? { unknownMetrics: result.unknownMetrics } : {}),
  });
}
