import type { z } from 'zod';
import { PlantPulseError } from '../contract/index.js';

/** JSON bodies reach routes raw (the ingest decoder parses its own): parse and validate one here. */
export function parseJsonBody<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  let value: unknown = {};
  if (Buffer.isBuffer(raw) && raw.length > 0) {
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new PlantPulseError('PP_ERR_INVALID_JSON', (err as Error).message);
    }
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new PlantPulseError('PP_ERR_INVALID_BODY', r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}
