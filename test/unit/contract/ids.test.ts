import { describe, expect, it } from 'vitest';
import { deviceKey } from '../../../src/contract/index.js';

describe('deviceKey', () => {
  it('is site/line/device, the same string each time, for refs that are different objects', () => {
    const a = deviceKey({ site: 's1', line: 'l1', device: 'd1' });
    expect(a).toBe('s1/l1/d1');
    expect(deviceKey({ site: 's1', line: 'l1', device: 'd1' })).toBe(a);
    expect(deviceKey({ site: 's1', line: 'l1', device: 'd2' })).toBe('s1/l1/d2');
    expect(deviceKey({ site: 's1', line: 'l2', device: 'd1' })).toBe('s1/l2/d1');
    expect(deviceKey({ site: 's2', line: 'l1', device: 'd1' })).toBe('s2/l1/d1');
  });

  it('still gives every key once more devices were seen than it remembers', () => {
    for (let i = 0; i < 50_010; i++) expect(deviceKey({ site: 'many', line: `l${i % 7}`, device: `d${i}` })).toBe(`many/l${i % 7}/d${i}`);
    expect(deviceKey({ site: 'late', line: 'l', device: 'd' })).toBe('late/l/d');
    expect(deviceKey({ site: 'many', line: 'l3', device: 'd3' })).toBe('many/l3/d3');
  });
});
