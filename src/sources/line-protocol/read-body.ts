import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { ErrorCode } from '../../contract/index.js';
import type { LineSyntaxError } from './parsed-point.js';

const gunzipAsync = promisify(gunzip);

export type BodyText =
  | { ok: true; text: string; bytes: number; invalidLines: LineSyntaxError[] }
  | { ok: false; status: 400 | 413 | 415; code: ErrorCode; message: string };

/**
 * The request body as text. `Content-Encoding: gzip` (Telegraf's default for the 2.x output,
 * and influxdb-client's above 1 kB) is inflated with the same byte limit as a plain body
 * (PP_INGEST_MAX_BYTES), so a small compressed body cannot become a huge one.
 * Invalid UTF-8 costs only the lines that contain it: they are reported and left out.
 */
export async function readBodyText(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<BodyText> {
  let body = raw;
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      body = await gunzipAsync(raw, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, status: 413, code: 'PP_ERR_BODY_TOO_LARGE', message: `the gzip body inflates to more than ${maxBytes} bytes, the limit; split the batch` };
      }
      return { ok: false, status: 400, code: 'PP_ERR_INVALID_GZIP', message: `Content-Encoding is gzip but the body is not valid gzip: ${(err as Error).message}` };
    }
  } else if (encoding !== '' && encoding !== 'identity') {
    return { ok: false, status: 415, code: 'PP_ERR_UNSUPPORTED_CONTENT_ENCODING', message: `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported; send gzip or no encoding` };
  }
  if (body.length > maxBytes) {
    return { ok: false, status: 413, code: 'PP_ERR_BODY_TOO_LARGE', message: `body is ${body.length} bytes; the limit is ${maxBytes}; split the batch` };
  }
  if (isUtf8(body)) return { ok: true, text: body.toString('utf8'), bytes: body.length, invalidLines: [] };
  return { ok: true, ...withoutInvalidLines(body), bytes: body.length };
}

/** Decodes line by line; a line that is not UTF-8 becomes blank and is reported. */
function withoutInvalidLines(body: Buffer): { text: string; invalidLines: LineSyntaxError[] } {
  const parts: string[] = [];
  const invalidLines: LineSyntaxError[] = [];
  let start = 0;
  for (let line = 1; start <= body.length; line++) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    const bytes = body.subarray(start, end);
    if (isUtf8(bytes)) {
      parts.push(bytes.toString('utf8'));
    } else {
      parts.push('');
      invalidLines.push({ line, column: 1, part: 'line', reason: 'line is not valid UTF-8' });
    }
    start = end + 1;
  }
  return { text: parts.join('\n'), invalidLines };
}
