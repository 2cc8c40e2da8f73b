import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createQualityMetrics } from '../../../src/quality/quality-metrics.js';

const value = (text: string, line: string) => Number(text.split('\n').find((l) => l.startsWith(line))?.slice(line.length + 1) ?? NaN);

describe('quality metrics: verdicts counted as numbers, handed to Prometheus when read', () => {
  it('a scrape shows every count once, a later scrape adds only what came since', async () => {
    const registry = new Registry();
    const m = createQualityMetrics(registry, { devices: () => 2, online: () => 1, missingMessages: () => 0, timestampBytes: () => 0 });
    for (let i = 0; i < 5; i++) m.messageVerdicts.add('next');
    m.messageVerdicts.add('duplicate');
    m.sampleVerdicts.add('received', 40);
    m.sampleVerdicts.add('duplicate', 3);
    let text = await registry.metrics();
    expect(value(text, 'pp_quality_messages_total{verdict="next"}')).toBe(5);
    expect(value(text, 'pp_quality_messages_total{verdict="duplicate"}')).toBe(1);
    expect(value(text, 'pp_quality_samples_total{verdict="received"}')).toBe(40);
    expect(value(text, 'pp_quality_samples_total{verdict="duplicate"}')).toBe(3);
    text = await registry.metrics();
    expect(value(text, 'pp_quality_messages_total{verdict="next"}')).toBe(5);
    m.messageVerdicts.add('next', 2);
    m.sampleVerdicts.add('too_late', 7);
    text = await registry.metrics();
    expect(value(text, 'pp_quality_messages_total{verdict="next"}')).toBe(7);
    expect(value(text, 'pp_quality_samples_total{verdict="too_late"}')).toBe(7);
    expect(value(text, 'pp_quality_samples_total{verdict="received"}')).toBe(40);
    // One counter read alone (as prom-client's get() does) is up to date too.
    m.messageVerdicts.add('reset');
    expect((await m.messages.get()).values.find((v) => v.labels.verdict === 'reset')?.value).toBe(1);
  });
});
