import { z } from 'zod';
import { idSchema, ID_PATTERN } from '../../contract/ids.js';
import { METRIC_NAME_PATTERN } from '../../contract/payload.js';
import { DETECTORS, DETECTOR_KINDS, type DetectorKind } from '../detectors/index.js';
import { CATEGORIES, SEVERITIES } from '../types.js';

/**
 * The rules configuration (YAML or JSON):
 *
 *   classes:                 # device classes, tried in file order; `default` is the fallback
 *     furnace:
 *       match: ['site-01/line-0?/furnace-*']   # globs on "site/line/device": * and ? within a level, ** across levels
 *       inherit: true        # start from the default class's rules (default true)
 *       disable: [flatline-temperature]   # drop inherited rules
 *       rules: [ { id: temperature-high, metric: temperature_c, detector: limit,
 *                  category: safety, severity: critical, params: { high: 260, hysteresis: 5, minDurationS: 30 } } ]
 *     default: { rules: [...] }          # inherit: true here means "start from the built-in defaults"
 *   devices:                 # per device, by "site/line/device"
 *     site-01/line-01/m-003: { class: furnace, override: { temperature-high: { params: { high: 280 } } },
 *                              disable: [flatline-temperature], rules: [...] }
 *
 * Layers, each replacing rules of the same id in the one before: built-in defaults → default
 * class → matched class → device. Then device overrides are merged into params, then disabled
 * rules are dropped. Rule params are checked against the detector's own schema here, at load
 * time; a device's merged params are checked by resolve.ts (validateRulesConfig).
 */

export const ruleIdSchema = idSchema;

/**
 * Which metric(s) a rule judges:
 * - a metric name as the telemetry contract allows it;
 * - `*`: any sample of the device, as a heartbeat (silence);
 * - `+`: every signal metric of the device, each on its own (a per-value detector keeps one state
 *   per metric; a per-sample detector such as `multivariate` sees them all together). Signal
 *   metrics are gauges and names outside the catalogue; counters and `state` are skipped (see
 *   isSignalMetric). At most EACH_METRIC_CAP metrics per rule and device are tracked (engine.ts).
 */
export const EACH_METRIC = '+';
export const HEARTBEAT_METRIC = '*';

export const ruleMetricSchema = z
  .string()
  .refine((m) => m === HEARTBEAT_METRIC || m === EACH_METRIC || METRIC_NAME_PATTERN.test(m), `must be a metric name (${METRIC_NAME_PATTERN.source}), * (any sample: heartbeat) or + (each metric)`);

const paramsRecord = z.record(z.string(), z.unknown());

/** The params a detector kind will see: the rule's, plus its metric (for messages and catalogue ranges). */
export function paramsWithMetric(params: Record<string, unknown>, metric: string): Record<string, unknown> {
  return { ...params, metric };
}

/** Check `params` against the detector's schema; report issues under `path` (relative to the caller's object). */
export function checkParams(kind: DetectorKind, params: Record<string, unknown>, metric: string, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  const parsed = DETECTORS[kind].paramsSchema.safeParse(paramsWithMetric(params, metric));
  if (parsed.success) return;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [...path, ...issue.path] });
}

export const ruleSchema = z
  .strictObject({
    id: ruleIdSchema,
    metric: ruleMetricSchema,
    detector: z.enum(DETECTOR_KINDS, { error: (i) => `unknown detector ${JSON.stringify(i.input)} (known: ${DETECTOR_KINDS.join(', ')})` }),
    /** Unset: the detector's default (sensor for range/flatline, data for silence, safety otherwise). */
    category: z.enum(CATEGORIES).optional(),
    severity: z.enum(SEVERITIES).default('warning'),
    description: z.string().optional(),
    /**
     * Judge only while the device reports one of these machine states (the `state` metric:
     * 0 stopped, 1 idle, 2 running, 3 fault). Samples in other states are neither learned nor
     * judged: a bearing's vibration means something while the machine turns, not while it stands.
     * Unset: every sample. A device that never reports `state` is judged on every sample.
     */
    states: z.array(z.number().int().min(0).max(65535)).min(1).optional(),
    /**
     * With `states`: after the device's machine state changes (to one of them), wait this long
     * (sample time) before learning or judging: a machine's temperature takes its thermal time constants to settle
     * after a start, and a baseline judged during the transient raises on every start.
     */
    settleS: z.number().positive().max(7 * 86_400).optional(),
    params: paramsRecord.default({}),
  })
  .superRefine((rule, ctx) => {
    if (rule.settleS !== undefined && rule.states === undefined) ctx.addIssue({ code: 'custom', path: ['settleS'], message: 'settleS needs states (it counts from entering one of them)' });
    if (DETECTORS[rule.detector].tick !== undefined && rule.metric === EACH_METRIC) {
      ctx.addIssue({ code: 'custom', path: ['metric'], message: `detector ${rule.detector} watches for missing data: name a metric, or * for the whole device` });
    }
    if (DETECTORS[rule.detector].stepSample !== undefined && rule.metric !== EACH_METRIC) {
      ctx.addIssue({ code: 'custom', path: ['metric'], message: `detector ${rule.detector} judges whole samples: its metric must be + (every metric)` });
    }
    checkParams(rule.detector, rule.params, rule.metric, ctx, ['params']);
  });

export type RuleConfig = z.output<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;

function uniqueIds(rules: { id: string }[], ctx: z.RefinementCtx, at: PropertyKey[]): void {
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `rule id ${JSON.stringify(r.id)} appears twice`, path: [...at, i, 'id'] });
    seen.add(r.id);
  });
}

export const classSchema = z
  .strictObject({
    match: z.array(z.string().min(1)).default([]),
    inherit: z.boolean().default(true),
    disable: z.array(ruleIdSchema).default([]),
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine((c, ctx) => uniqueIds(c.rules, ctx, ['rules']));

export type ClassConfig = z.output<typeof classSchema>;

export const overrideSchema = z.strictObject({
  /** Merged over the rule's params (key by key). */
  params: paramsRecord.default({}),
  severity: z.enum(SEVERITIES).optional(),
  category: z.enum(CATEGORIES).optional(),
});

export const deviceSchema = z
  .strictObject({
    /** Use this class instead of the first whose `match` fits. */
    class: idSchema.optional(),
    override: z.record(ruleIdSchema, overrideSchema).default({}),
    disable: z.array(ruleIdSchema).default([]),
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine((d, ctx) => uniqueIds(d.rules, ctx, ['rules']));

export type DeviceConfig = z.output<typeof deviceSchema>;

const DEVICE_KEY_PATTERN = new RegExp(`^${ID_PATTERN.source.slice(1, -1)}/${ID_PATTERN.source.slice(1, -1)}/${ID_PATTERN.source.slice(1, -1)}$`);
export const deviceKeySchema = z.string().regex(DEVICE_KEY_PATTERN, 'device keys are "site/line/device", each an id [A-Za-z0-9_-]{1,64}');

/**
 * Class names are ids that are not all digits: JavaScript objects list integer-like keys first,
 * whatever the file order, and class matching depends on file order.
 */
const classNameSchema = idSchema.refine((n) => !/^\d+$/.test(n), 'class names must not be all digits (their order in the file would be lost)');

export const rulesConfigSchema = z
  .strictObject({
    classes: z.record(classNameSchema, classSchema).default({}),
    devices: z.record(deviceKeySchema, deviceSchema).default({}),
  })
  .superRefine((c, ctx) => {
    if (c.classes.default && c.classes.default.match.length > 0) {
      ctx.addIssue({ code: 'custom', message: 'the default class takes every device no other class matches: it has no match', path: ['classes', 'default', 'match'] });
    }
  });

export type RulesConfig = z.output<typeof rulesConfigSchema>;
export type RulesConfigInput = z.input<typeof rulesConfigSchema>;

/** The parsed form of `{}`: every device gets the built-in default rules. */
export const EMPTY_RULES_CONFIG: RulesConfig = { classes: {}, devices: {} };
