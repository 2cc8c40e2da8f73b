import { describe, expect, it } from 'vitest';
import { parseTopic } from '../../../src/contract/index.js';

describe('parseTopic', () => {
  it('parses a valid topic once: the same frozen answer for every later message on it', () => {
    const a = parseTopic('pp/v1/topic-s1/l1/d1/metrics');
    expect(a).toEqual({ ok: true, ref: { site: 'topic-s1', line: 'l1', device: 'd1' }, kind: 'metrics', key: 'topic-s1/l1/d1' });
    const b = parseTopic('pp/v1/topic-s1/l1/d1/metrics');
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a.ok && Object.isFrozen(a.ref)).toBe(true);
    // Another kind on the same device is another topic.
    expect(parseTopic('pp/v1/topic-s1/l1/d1/status')).toEqual({ ok: true, ref: { site: 'topic-s1', line: 'l1', device: 'd1' }, kind: 'status', key: 'topic-s1/l1/d1' });
  });

  it('gives an invalid topic its reason every time', () => {
    for (let i = 0; i < 2; i++) {
      expect(parseTopic('pp/v1/site 1/l1/d1/metrics')).toEqual({ ok: false, reason: 'site id in topic must match [A-Za-z0-9_-]{1,64}' });
      expect(parseTopic('pp/v1/s1/l1/d1/other')).toEqual({ ok: false, reason: 'topic kind must be one of metrics, status, alerts' });
      expect(parseTopic('pp/v2/s1/l1/d1/metrics')).toMatchObject({ ok: false });
    }
  });

  it('still parses every topic correctly once more topics were seen than it remembers', () => {
    for (let i = 0; i < 50_010; i++) expect(parseTopic(`pp/v1/many/l${i}/d/metrics`)).toMatchObject({ ok: true, ref: { line: `l${i}` } });
    const late = parseTopic('pp/v1/many/late/d/metrics');
    expect(late).toEqual({ ok: true, ref: { site: 'many', line: 'late', device: 'd' }, kind: 'metrics', key: 'many/late/d' });
    expect(parseTopic('pp/v1/many/late/d/metrics')).not.toBe(late); // past the bound: parsed again, not remembered
    expect(parseTopic('pp/v1/many/l 1/d/metrics')).toMatchObject({ ok: false });
  });
});
