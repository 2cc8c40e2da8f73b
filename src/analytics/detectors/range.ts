import { z } from 'zod';
import { METRIC_CATALOGUE, isKnownMetric, type MetricDefinition } from '../../contract/metrics.js';
import { NO_EVENTS, type DetectorEvent, type DetectorInput } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import { pureStep, type DetectorModule } from './module.js';
import { NEVER } from './robust-scale.js';

/**
 * Out of the physically possible range: the instrument, not the process, is wrong (a broken
 * thermocouple reads 2 000+ °C or −273 °C; a vibration RMS cannot be negative). Raises on every
 * sample outside, clears on the first sample inside: no hysteresis or duration, a physically
 * impossible reading is a fault at once.
 * Bounds not given by the rule come from `METRIC_CATALOGUE[metric].range`.
 */
export const rangeParamsSchema = z
  .strictObject({
    ...metricParam,
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .refine((p) => p.min !== undefined || p.max !== undefined || catalogueRange(p.metric) !== undefined, {
    message: 'set min and/or max: this metric has no physical range in the metric catalogue',
    path: ['min'],
  })
  .refine((p) => rangeOf(p).min < rangeOf(p).max, { message: 'min must be smaller than max', path: ['max'] });

export type RangeParams = z.output<typeof rangeParamsSchema>;

export interface RangeState {
  active: boolean;
  lastTs: number | null;
}

function catalogueRange(metric: string): readonly [number, number] | undefined {
  if (!isKnownMetric(metric)) return undefined;
  const def: MetricDefinition = METRIC_CATALOGUE[metric];
  return def.range;
}

/** The effective bounds: the rule's, else the catalogue's, else unbounded on that side. */
export function rangeOf(p: { metric: string; min?: number | undefined; max?: number | undefined }): { min: number; max: number } {
  const cat = catalogueRange(p.metric);
  return { min: p.min ?? cat?.[0] ?? -Infinity, max: p.max ?? cat?.[1] ?? Infinity };
}

/** Bounds per (immutable) params object: the catalogue lookup once per rule, not per sample. */
const BOUNDS = new WeakMap<RangeParams, { min: number; max: number }>();

function boundsOf(p: RangeParams): { min: number; max: number } {
  let b = BOUNDS.get(p);
  if (!b) BOUNDS.set(p, (b = rangeOf(p)));
  return b;
}

/**
 * One value, updating `s` in place (the engine owns its states; `step` copies first). Six of the
 * default rules are range rules, each stepped on every sample: a new state and step object each
 * would be most of their cost.
 */
function update(p: RangeParams, s: RangeState, input: DetectorInput): readonly DetectorEvent[] {
  const { ts, value } = input;
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  const { min, max } = boundsOf(p);
  const was = s.active;
  s.lastTs = ts;
  if (value < min || value > max) {
    s.active = true;
    return [{ kind: 'raise', ts, value, threshold: value < min ? min : max, message: messages.rangeRaised(p.metric, value, min, max) }];
  }
  s.active = false;
  return was ? [{ kind: 'clear', ts, value, message: messages.rangeCleared(p.metric, value, min, max) }] : NO_EVENTS;
}

export const rangeDetector: DetectorModule<RangeParams, RangeState> = {
  kind: 'range',
  summary: 'value outside the physically possible range (sensor fault); defaults to the metric catalogue range',
  paramsSchema: rangeParamsSchema,
  defaultCategory: 'sensor',

  // Each state its own object: the engine updates its states in place. lastTs starts as NEVER, a
  // number: a field that starts null makes V8 box every timestamp stored in it (robust-scale.ts).
  initial: () => ({ active: false, lastTs: NEVER }),
  update,
  step: pureStep((s: RangeState) => ({ ...s }), update),
};
