import { SinkError } from './sink.js';

/**
 * Refusals that are about some of the lines, not about the request: a bad line or a field type
 * conflict (400; InfluxDB 1.x writes the other points of a "partial write" and names what it
 * dropped), points outside the retention policy (422), a body too large (413). Splitting the
 * batch finds the lines at fault. Other 4xx (401, 403, 404: credentials, a missing database)
 * refuse every line alike, so splitting would only multiply the requests.
 */
export function refusesSomeLines(err: SinkError): boolean {
  return err.status === 400 || err.status === 413 || err.status === 422;
}

/**
 * Write `items` in one request; when storage refuses some of its lines for good, write each half
 * the same way, down to single items, and hand only the refused ones to `refused` (as Telegraf's
 * outputs accept and reject per metric). One bad line among n costs about 2·log2(n) requests;
 * lines written again are harmless, since writes are idempotent. Transient failures, and
 * refusals `write` does not classify, are thrown: the caller's retry decides.
 */
export async function writeSplittingRefusals<T>(items: readonly T[], write: (part: readonly T[]) => Promise<void>, refused: (part: readonly T[], err: SinkError) => void | Promise<void>): Promise<void> {
  try {
    await write(items);
  } catch (err) {
    if (!(err instanceof SinkError) || err.retryable) throw err;
    if (items.length > 1 && refusesSomeLines(err)) {
      const half = Math.ceil(items.length / 2);
      await writeSplittingRefusals(items.slice(0, half), write, refused);
      await writeSplittingRefusals(items.slice(half), write, refused);
      return;
    }
    await refused(items, err);
  }
}
