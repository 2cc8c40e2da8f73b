import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { IdMapping } from './id-mapping.js';
import { MetricNameMapper } from './metric-names.js';

/**
 * The Sparkplug mapping file (PP_SPARKPLUG_MAPPING_FILE), YAML or JSON:
 *
 *   groups:   { "Plant 1": plant-1 }                      # group_id → site
 *   nodes:    { "Plant 1/Gateway A": press-shop }         # [group/]edge_node_id → line (or line/device)
 *   devices:  { "Plant 1/Gateway A/Press 3": press-3 }    # [[group/]node/]device_id → device (or line/device)
 *   metrics:  { Power: power_kw, Meter/Energy: energy_kwh }   # Sparkplug metric name → metric
 *
 * Everything is optional; what is not mapped follows the defaults (id-mapping.ts, metric-names.ts).
 * Read once at start-up: a bad file stops the platform with a message naming the entry.
 */
const section = z.record(z.string().min(1), z.string().min(1)).optional();
const fileSchema = z.strictObject({ groups: section, nodes: section, devices: section, metrics: section });

export interface SparkplugMapping {
  ids: IdMapping;
  metrics: MetricNameMapper;
}

export function parseSparkplugMapping(text: string, origin = 'Sparkplug mapping'): SparkplugMapping {
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new Error(`${origin}: not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(`${origin}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '$'}: ${i.message}`).join('; ')}`);
  try {
    return { ids: new IdMapping(parsed.data), metrics: new MetricNameMapper(parsed.data.metrics ?? {}) };
  } catch (err) {
    throw new Error(`${origin}: ${(err as Error).message}`, { cause: err });
  }
}

export async function loadSparkplugMapping(path: string | undefined): Promise<SparkplugMapping> {
  if (!path) return { ids: new IdMapping(), metrics: new MetricNameMapper() };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read PP_SPARKPLUG_MAPPING_FILE ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseSparkplugMapping(text, `PP_SPARKPLUG_MAPPING_FILE ${path}`);
}
