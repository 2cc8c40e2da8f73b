import { z } from 'zod';
import { METRIC_CATALOGUE, isKnownMetric, type MetricDefinition } from '../../contract/metrics.js';
import { NO_EVENTS, type DetectorInput, type Step } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import type { DetectorModule } from './module.js';

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

export const rangeDetector: DetectorModule<RangeParams, RangeState> = {
  kind: 'range',
  summary: 'value outside the physically possible range (sensor fault); defaults to the metric catalogue range',
  paramsSchema: rangeParamsSchema,
  defaultCategory: 'sensor',

  initial: () => ({ active: false, lastTs: null }),

  step(p: RangeParams, s: RangeState, { ts, value }: DetectorInput): Step<RangeState> {
    if (isStale(s.lastTs, ts)) return { state: s, events: NO_EVENTS };
    const { min, max } = boundsOf(p);
    if (value < min || value > max) {
      return {
        state: { active: true, lastTs: ts },
        events: [{ kind: 'raise', ts, value, threshold: value < min ? min : max, message: messages.rangeRaised(p.metric, value, min, max) }],
      };
    }
    return {
      state: { active: false, lastTs: ts },
      events: s.active ? [{ kind: 'clear', ts, value, message: messages.rangeCleared(p.metric, value, min, max) }] : NO_EVENTS,
    };
  },
};
