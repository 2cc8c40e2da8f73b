import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { METRIC_NAME_PATTERN } from '../../src/contract/index.js';

/**
 * A meter profile: which registers hold which metric, and how to turn 16-bit words into an
 * engineering value: value = raw × scale + offset. Addresses are 0-based protocol addresses
 * (register 40001 in a vendor manual is holding address 0).
 */
export const registerSpecSchema = z.strictObject({
  metric: z.string().regex(METRIC_NAME_PATTERN),
  table: z.enum(['holding', 'input']).default('holding'),
  address: z.number().int().min(0).max(65535),
  type: z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32']).default('uint16'),
  /** 32-bit values: `big` = high word first (Modbus convention), `little` = low word first. */
  wordOrder: z.enum(['big', 'little']).default('big'),
  scale: z.number().finite().default(1),
  offset: z.number().finite().default(0),
});

export const profileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  registers: z.array(registerSpecSchema).min(1),
});

export type RegisterSpec = z.output<typeof registerSpecSchema>;
export type Profile = z.output<typeof profileSchema>;

/** Shipped profiles: beside the sources, or (built, in dist/edge-agent/) in the source tree. */
export const PROFILES_DIR = [new URL('../profiles/', import.meta.url), new URL('../../../edge-agent/profiles/', import.meta.url)].map((u) => fileURLToPath(u)).find((d) => existsSync(d)) ?? fileURLToPath(new URL('../profiles/', import.meta.url));

/** Words a register type occupies. */
export function width(type: RegisterSpec['type']): 1 | 2 {
  return type === 'int16' || type === 'uint16' ? 1 : 2;
}

/** Load a profile by name (a file in edge-agent/profiles/) or path; errors name the field. */
export function loadProfile(nameOrPath: string): Profile {
  const path = nameOrPath.includes('/') ? nameOrPath : `${PROFILES_DIR}${nameOrPath}.yaml`;
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`profile ${nameOrPath}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`profile ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const seen = new Set<string>();
  for (const r of parsed.data.registers) {
    if (seen.has(r.metric)) throw new Error(`profile ${path}: metric ${r.metric} is mapped twice`);
    seen.add(r.metric);
  }
  return parsed.data;
}
