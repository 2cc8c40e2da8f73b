import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltaBlocks } from '../../../src/quality/delta-blocks.js';

/** Add every offset, checking each answer against a plain set; then the whole set, and each member. */
function checkAgainstSet(offsets: readonly number[]): DeltaBlocks {
  const blocks = new DeltaBlocks();
  const model = new Set<number>();
  for (const off of offsets) {
    expect(blocks.add(off)).toBe(!model.has(off));
    model.add(off);
  }
  const want = [...model].sort((a, b) => a - b);
  expect(blocks.size).toBe(want.length);
  expect([...blocks.values()]).toEqual(want);
  for (const off of want) expect(blocks.has(off)).toBe(true);
  for (const off of want) if (!model.has(off + 1)) expect(blocks.has(off + 1)).toBe(false);
  return blocks;
}

describe('DeltaBlocks: late offsets into sealed blocks', () => {
  it('goes in front of the first block, inside any block, between two blocks, and repeats are told', () => {
    const inOrder = Array.from({ length: 1024 }, (_, i) => 1000 + i * 10); // four sealed blocks
    const late = [999, 5, 1005, 1015, 3555, 1000 + 256 * 10 - 5, 1000 + 1023 * 10 + 3, 1005, 5, 11_225, 1000 + 255 * 10 + 1];
    checkAgainstSet([...inOrder, ...late]);
  });

  it('splits a block that late offsets grew past twice its size, and stays exact through it', () => {
    const inOrder = Array.from({ length: 768 }, (_, i) => i * 1000);
    // 600 late offsets into the first block: it passes 512 and splits, and keeps taking them.
    const late = Array.from({ length: 600 }, (_, i) => 1 + ((i * 7919) % 600) * 425); // distinct, none on the 1000 grid
    const blocks = checkAgainstSet([...inOrder, ...late]);
    expect(blocks.size).toBe(768 + 600);
  });

  it('answers as a plain set would for offsets in any order, with deltas of 1 to 5 bytes', () => {
    const offsets = fc.array(fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 3_600_000 }), fc.integer({ min: 0, max: 0xffffffff })), { minLength: 300, maxLength: 2000 });
    fc.assert(
      fc.property(offsets, fc.integer({ min: 0, max: 100 }), (offs, inOrderPct) => {
        // Part sorted (sealed blocks form), the rest late.
        const cut = Math.floor((offs.length * inOrderPct) / 100);
        checkAgainstSet([...offs.slice(0, cut).sort((a, b) => a - b), ...offs.slice(cut)]);
      }),
      { numRuns: 150 },
    );
  });
});
