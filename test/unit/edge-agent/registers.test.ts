import { describe, expect, it } from 'vitest';
import { decodeRegister, encodeRegister, loadProfile, planReads, registerSpecSchema } from '../../../edge-agent/modbus/index.js';

const spec = (over: object) => registerSpecSchema.parse({ metric: 'x', address: 0, ...over });

describe('Modbus register decoding', () => {
  it.each([
    [{ type: 'uint16' }, [0xffff], 65535],
    [{ type: 'int16' }, [0xffff], -1],
    [{ type: 'int16', scale: 0.1 }, [0xff9c], -10],
    [{ type: 'uint32' }, [0x0001, 0x0002], 65538],
    [{ type: 'uint32', wordOrder: 'little' }, [0x0002, 0x0001], 65538],
    [{ type: 'int32' }, [0xffff, 0xfffe], -2],
    [{ type: 'float32' }, [0x4148, 0x0000], 12.5],
    [{ type: 'float32', wordOrder: 'little' }, [0x0000, 0x4148], 12.5],
    [{ type: 'uint16', scale: 0.5, offset: -40 }, [100], 10],
  ])('%j of %j is %d', (over, words, value) => {
    expect(decodeRegister(words, spec(over))).toBeCloseTo(value, 9);
  });

  it('encode is the inverse of decode for every type and word order', () => {
    for (const type of ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const) {
      for (const wordOrder of ['big', 'little'] as const) {
        const s = spec({ type, wordOrder, scale: 0.01 });
        for (const v of type.startsWith('u') ? [0, 12.34, 600] : [-123.45, 0, 99.99]) expect(decodeRegister(encodeRegister(v, s), s)).toBeCloseTo(v, 2);
      }
    }
  });

  it('plans one read per run of adjacent registers, per table, at most 125 registers', () => {
    const specs = [
      spec({ metric: 'a', address: 0, type: 'uint32' }),
      spec({ metric: 'b', address: 2 }),
      spec({ metric: 'c', address: 10 }),
      spec({ metric: 'd', address: 0, table: 'input' }),
      spec({ metric: 'e', address: 200 }),
      spec({ metric: 'f', address: 323, type: 'uint32' }),
    ];
    expect(planReads(specs).map((p) => [p.table, p.address, p.length, p.specs.map((s) => s.metric).join('')])).toEqual([
      ['holding', 0, 3, 'ab'],
      ['holding', 10, 1, 'c'],
      ['holding', 200, 1, 'e'],
      ['holding', 323, 2, 'f'],
      ['input', 0, 1, 'd'],
    ]);
    expect(planReads(specs, 8).map((p) => [p.address, p.length])).toEqual([[0, 11], [200, 1], [323, 2], [0, 1]]);
    expect(planReads([spec({ address: 0 }), spec({ metric: 'y', address: 124, type: 'uint32' })], 200).length).toBe(2);
  });

  it('ships profiles that load and map to catalogue metrics', () => {
    for (const name of ['three-phase-meter', 'machine-plc', 'gas-meter']) {
      const p = loadProfile(name);
      expect(p.registers.length).toBeGreaterThan(2);
    }
    expect(() => loadProfile('no-such-profile')).toThrow(/cannot read/);
  });
});
