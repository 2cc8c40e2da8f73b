import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { idSchema } from '../../src/contract/index.js';
import { MACHINE_CLASSES } from '../simulator/index.js';

/**
 * The agent's configuration file (YAML or JSON). Validated as a whole before anything starts;
 * every problem is reported with its path (`devices[2].port: ...`).
 */
const deviceBase = {
  id: idSchema,
  line: idSchema,
  pollIntervalMs: z.number().int().min(50).max(3_600_000).default(1000),
};

export const deviceSchema = z.discriminatedUnion('source', [
  z.strictObject({
    ...deviceBase,
    source: z.literal('modbus'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(502),
    unitId: z.number().int().min(0).max(255).default(1),
    /** A profile name from edge-agent/profiles/ or a path to a profile file. */
    profile: z.string().min(1),
    timeoutMs: z.number().int().min(50).max(60_000).default(1000),
  }),
  z.strictObject({
    ...deviceBase,
    source: z.literal('simulator'),
    machineClass: z.enum(MACHINE_CLASSES.map((c) => c.name) as [string, ...string[]]).default('cnc'),
    seed: z.number().int().min(0).default(1),
  }),
]);

export const agentConfigSchema = z.strictObject({
  broker: z.strictObject({
    url: z.string().refine((v) => /^(mqtts?|wss?|tcp|tls):\/\//.test(v), 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** Read the password from a file (kept out of the config file). */
    passwordFile: z.string().min(1).optional(),
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    tls: z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), rejectUnauthorized: z.boolean().default(true) }).optional(),
  }),
  gateway: z.strictObject({ id: idSchema, site: idSchema }),
  queue: z
    .strictObject({
      dir: z.string().min(1).default('./data/agent-queue'),
      maxBytes: z.number().int().min(4096).default(256 * 1024 * 1024),
      /** Publish rate while catching up after an outage, so a reconnecting fleet does not flatten the platform. */
      catchUpMessagesPerSecond: z.number().positive().default(50),
    })
    .default({ dir: './data/agent-queue', maxBytes: 256 * 1024 * 1024, catchUpMessagesPerSecond: 50 }),
  publish: z.strictObject({ intervalMs: z.number().int().min(100).default(5000), maxSamplesPerMessage: z.number().int().min(1).max(10_000).default(500) }).default({ intervalMs: 5000, maxSamplesPerMessage: 500 }),
  statusIntervalMs: z.number().int().min(1000).default(60_000),
  devices: z.array(deviceSchema).min(1),
});

export type AgentConfig = z.output<typeof agentConfigSchema>;
export type DeviceConfig = z.output<typeof deviceSchema>;

export class AgentConfigError extends Error {}

export function parseAgentConfig(raw: unknown, where = 'config'): AgentConfig {
  const parsed = agentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : `${k ? '.' : ''}${String(p)}`)).join('') || '(root)'}: ${i.message}`);
    throw new AgentConfigError(`${where} is invalid:\n${lines.join('\n')}`);
  }
  const ids = new Set<string>();
  for (const [i, d] of parsed.data.devices.entries()) {
    const key = `${d.line}/${d.id}`;
    if (ids.has(key)) throw new AgentConfigError(`${where} is invalid:\n  devices[${i}]: device ${key} appears twice`);
    ids.add(key);
  }
  return parsed.data;
}

/** Read a YAML or JSON file (JSON is YAML) and validate it. */
export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new AgentConfigError(`${path} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  return parseAgentConfig(raw, path);
}
