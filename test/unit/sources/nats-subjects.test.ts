import { describe, expect, it } from 'vitest';
import { consumerName, deadLetterSubject, filterSubject, ownershipUnits, subjectToTopic } from '../../../src/sources/nats/index.js';

describe('JetStream source subjects', () => {
  it('turns a partitioned subject back into the MQTT topic the gateway published', () => {
    expect(subjectToTopic('pp.part.7.site-1.line-1.dev7.metrics')).toBe('pp/v1/site-1/line-1/dev7/metrics');
    expect(subjectToTopic('pp.part.0.site-1._gateway.gw-1.status')).toBe('pp/v1/site-1/_gateway/gw-1/status');
    expect(subjectToTopic('pp.v1.site-1.too-short')).toBe('pp/v1/site-1/too-short');
  });

  it('names a dead letter after the subject as published, without the partition', () => {
    expect(deadLetterSubject('pp.dead-letter.v1', 'pp.part.3.s.l.d.metrics')).toBe('pp.dead-letter.v1.pp.v1.s.l.d.metrics');
    expect(deadLetterSubject('dl', 'pp.v1.s.x')).toBe('dl.pp.v1.s.x');
  });

  it('has one durable consumer per partition plus the unmapped one, with disjoint filters', () => {
    const units = ownershipUnits(3);
    expect(units).toEqual(['0', '1', '2', 'unmapped']);
    expect(units.map(consumerName)).toEqual(['pp-part-0', 'pp-part-1', 'pp-part-2', 'pp-unmapped']);
    expect(units.map(filterSubject)).toEqual(['pp.part.0.>', 'pp.part.1.>', 'pp.part.2.>', 'pp.v1.>']);
  });
});
