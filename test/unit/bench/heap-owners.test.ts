import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { heapOwners } from '../../../load-tests/bench/heap-owners.js';

const dir = mkdtempSync(join(tmpdir(), 'pp-heap-owners-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('heap snapshot by owner', () => {
  it('counts each array of a plain-object state under the object shape and property that hold it', () => {
    // 2,000 states, each holding 100 doubles in `samplesKept`, an array the test can name by its owner.
    const held = Array.from({ length: 2000 }, (_, i) => ({ ownerTestMarker: i, samplesKept: Array.from({ length: 100 }, (_, k) => k + 0.5) }));
    const file = writeHeapSnapshot(join(dir, 'a.heapsnapshot'));
    const lines = heapOwners(file, held.length, 200);
    // Small integers are not heap objects: the shape names the properties that hold one.
    const line = lines.find((l) => l.includes('array of Object{samplesKept,__proto__}.samplesKept:elements'));
    expect(line).toBeDefined();
    // 100 doubles of 8 bytes and a header per state; 2,000 of them.
    const [bytes, , nodes] = line!.trim().split(/\s+/);
    expect(Number(bytes!.replace(/,/g, ''))).toBeGreaterThanOrEqual(800);
    expect(Number(bytes!.replace(/,/g, ''))).toBeLessThan(1000);
    expect(Number(nodes)).toBe(2000);
    expect(held.length).toBe(2000);
  });
});
