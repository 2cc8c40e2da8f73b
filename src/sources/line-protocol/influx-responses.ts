import type { ErrorCode } from '../../contract/index.js';
import type { LineRejection } from './line-rejection.js';
import type { LineProtocolBatches } from './to-batches.js';

/**
 * Error bodies the way InfluxDB writes them, so clients log something useful: 2.x clients
 * (influxdb-client, Telegraf's influxdb_v2 output) read `{ code, message }` with InfluxDB's codes;
 * 1.x clients read `{ error }`, so `/write` answers carry both. `ppCode` and `rejections` add
 * PlantPulse's stable codes (docs/errors.md) for scripts.
 */
export type InfluxCode = 'invalid' | 'request too large' | 'unsupported media type' | 'unavailable' | 'unauthorized' | 'forbidden' | 'too many requests' | 'internal error';

export interface InfluxErrorBody {
  code: InfluxCode;
  message: string;
  /** 1.x clients (Telegraf's influxdb output) read this. */
  error?: string;
  ppCode?: ErrorCode;
  lines?: number;
  accepted?: number;
  rejected?: number;
  rejections?: LineRejection[];
  rejectionsOmitted?: number;
}

const CODE_BY_STATUS: Record<number, InfluxCode> = { 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 413: 'request too large', 415: 'unsupported media type', 429: 'too many requests', 503: 'unavailable' };
/** Rejections listed in the message (the body lists more). */
const IN_MESSAGE = 10;
/** Rejections listed in the body: a garbage body of 100,000 lines must not answer 100,000 of them. */
const IN_BODY = 1000;

export function influxError(api: 'v1' | 'v2', status: number, message: string, ppCode?: ErrorCode): InfluxErrorBody {
  const body: InfluxErrorBody = { code: CODE_BY_STATUS[status] ?? 'internal error', message, ...(ppCode ? { ppCode } : {}) };
  if (api === 'v1') body.error = message;
  return body;
}

function describe(r: LineRejection): string {
  const where = r.column === undefined ? `line ${r.line}` : `line ${r.line}:${r.column}`;
  return `${where}: ${r.reason}`;
}

/**
 * The 400 answer when some lines (or fields) were rejected. Its message begins like InfluxDB's
 * ("partial write: …" when something was stored, "unable to parse …" when nothing was), which
 * is also what Telegraf's 1.x output looks for to drop the batch instead of retrying it forever.
 */
export function rejectedLinesBody(api: 'v1' | 'v2', result: LineProtocolBatches): InfluxErrorBody {
  const { rejections, lines, stored, storedInPart } = result;
  const notStored = lines - stored;
  const head =
    stored > 0
      ? `partial write: ${stored} of ${lines} lines stored${storedInPart > 0 ? ` (${storedInPart} without some of their fields)` : ''}, ${notStored} not stored`
      : `unable to parse: none of ${lines} lines stored`;
  const listed = rejections.slice(0, IN_MESSAGE).map(describe).join('; ');
  const more = rejections.length > IN_MESSAGE ? `; and ${rejections.length - IN_MESSAGE} more (see rejections)` : '';
  const body = influxError(api, 400, `${head}: ${listed}${more}`, rejections[0]!.code);
  body.lines = lines;
  body.accepted = stored;
  body.rejected = notStored;
  body.rejections = rejections.slice(0, IN_BODY);
  if (rejections.length > IN_BODY) body.rejectionsOmitted = rejections.length - IN_BODY;
  return body;
}
