import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeHttpBody, ERRORS, type DecodeLimits, type DecodeResult, type DeviceRef, type ErrorCode, type Rejection } from '../../contract/index.js';
import type { Pipeline } from '../../pipeline/index.js';

/**
 * HTTP ingest: the same body and the same decoder as MQTT.
 * `POST /api/v1/ingest` with site/line/device in the body, or
 * `POST /api/v1/ingest/{site}/{line}/{device}`.
 * 200: every sample stored. 200 with `rejected > 0`: the valid samples were stored, each bad one is
 * listed. 4xx: nothing stored, with the reasons. The answer comes only once the data is durable.
 * `siteCheck` (the caller's token scope; a site in the path was checked before the body was
 * read) refuses a body naming a site the caller may not write, before anything is counted.
 */
export type IngestSiteCheck = (req: FastifyRequest, site: string) => { status: number; code: ErrorCode; message: string } | null;

export function registerIngestRoutes(app: FastifyInstance, pipeline: Pipeline, limits: DecodeLimits, siteCheck?: IngestSiteCheck): void {
  const handle = async (req: FastifyRequest, pathRef: Partial<DeviceRef>, reply: FastifyReply) => {
    const body = req.body;
    if (pipeline.saturated) {
      // Backpressure: refuse before decoding, so a flood costs as little as possible.
      pipeline.throttled();
      return reply.code(503).header('retry-after', '5').send({ code: 'PP_ERR_STORAGE_UNAVAILABLE', message: 'storage and spool cannot keep up; retry after the Retry-After delay' });
    }
    const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    const result = decodeHttpBody(raw, pathRef, limits);
    const denial = result.batch && siteCheck ? siteCheck(req, result.batch.site) : null;
    if (denial) return reply.code(denial.status).send({ code: denial.code, message: denial.message });
    pipeline.account('http', result);
    return answer(result, reply, pipeline);
  };
  app.post('/api/v1/ingest', async (req, reply) => handle(req, {}, reply));
  app.post<{ Params: DeviceRef }>('/api/v1/ingest/:site/:line/:device', async (req, reply) => handle(req, req.params, reply));
}

/**
 * Rejections listed in one answer (all are counted, as in line protocol answers and dead letters):
 * a 650 kB body of bad fields gives 80,000 of them, which listed in full made a 10 MB answer.
 */
const MAX_LISTED_REJECTIONS = 1000;

function listed(rejections: Rejection[]): { rejections: Rejection[]; rejectionsOmitted?: number } {
  if (rejections.length <= MAX_LISTED_REJECTIONS) return { rejections };
  return { rejections: rejections.slice(0, MAX_LISTED_REJECTIONS), rejectionsOmitted: rejections.length - MAX_LISTED_REJECTIONS };
}

async function answer(result: DecodeResult, reply: FastifyReply, pipeline: Pipeline) {
  if (result.batch === null) {
    const first = result.rejections[0]!;
    return reply.code(ERRORS[first.code].status).send({ code: first.code, message: first.reason, ...listed(result.rejections) });
  }
  const accepted = result.batch.samples.length;
  if (accepted === 0) {
    return reply.code(400).send({ code: 'PP_ERR_NO_VALID_SAMPLES', message: ERRORS.PP_ERR_NO_VALID_SAMPLES.message, accepted: 0, rejected: result.rejections.length, ...listed(result.rejections) });
  }
  await pipeline.ingest('http', result.batch);
  return reply.code(200).send({
    accepted,
    rejected: result.rejections.length,
    ...(result.rejections.length > 0 ? listed(result.rejections) : {}),
    ...(result.unknownMetrics.length > 0 ? { unknownMetrics: result.unknownMetrics } : {}),
  });
}
