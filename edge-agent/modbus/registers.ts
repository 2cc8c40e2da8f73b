import { width, type RegisterSpec } from './profile.js';

/** Modbus allows at most 125 registers in one read (function codes 3 and 4). */
export const MAX_REGISTERS_PER_READ = 125;

/**
 * Words → engineering value. Each word is big-endian on the wire (the library gives us numbers);
 * 32-bit types combine two words in the spec's word order.
 */
export function decodeRegister(words: readonly number[], spec: RegisterSpec): number {
  const buf = Buffer.alloc(4);
  if (width(spec.type) === 1) {
    buf.writeUInt16BE(words[0]! & 0xffff, 0);
    const raw = spec.type === 'int16' ? buf.readInt16BE(0) : buf.readUInt16BE(0);
    return raw * spec.scale + spec.offset;
  }
  const [hi, lo] = spec.wordOrder === 'big' ? [words[0]!, words[1]!] : [words[1]!, words[0]!];
  buf.writeUInt16BE(hi & 0xffff, 0);
  buf.writeUInt16BE(lo & 0xffff, 2);
  const raw = spec.type === 'int32' ? buf.readInt32BE(0) : spec.type === 'uint32' ? buf.readUInt32BE(0) : buf.readFloatBE(0);
  return raw * spec.scale + spec.offset;
}

/** The inverse, for tests and simulators serving a register table. */
export function encodeRegister(value: number, spec: RegisterSpec): number[] {
  const raw = (value - spec.offset) / spec.scale;
  const buf = Buffer.alloc(4);
  switch (spec.type) {
    case 'int16':
      buf.writeInt16BE(Math.round(raw), 0);
      return [buf.readUInt16BE(0)];
    case 'uint16':
      buf.writeUInt16BE(Math.round(raw), 0);
      return [buf.readUInt16BE(0)];
    case 'int32':
      buf.writeInt32BE(Math.round(raw), 0);
      break;
    case 'uint32':
      buf.writeUInt32BE(Math.round(raw), 0);
      break;
    case 'float32':
      buf.writeFloatBE(raw, 0);
      break;
  }
  const words = [buf.readUInt16BE(0), buf.readUInt16BE(2)];
  return spec.wordOrder === 'big' ? words : [words[1]!, words[0]!];
}

export interface ReadPlan {
  table: 'holding' | 'input';
  address: number;
  length: number;
  specs: RegisterSpec[];
}

/**
 * Group registers into as few reads as possible: per table, registers that are adjacent (or
 * within `maxGap` words of each other) share one read of at most 125 registers. A failed read
 * then costs exactly the metrics in it.
 */
export function planReads(specs: readonly RegisterSpec[], maxGap = 0): ReadPlan[] {
  const plans: ReadPlan[] = [];
  for (const table of ['holding', 'input'] as const) {
    const sorted = specs.filter((s) => s.table === table).sort((a, b) => a.address - b.address);
    let current: ReadPlan | null = null;
    for (const spec of sorted) {
      const end = spec.address + width(spec.type);
      if (current && spec.address - (current.address + current.length) <= maxGap && end - current.address <= MAX_REGISTERS_PER_READ) {
        current.length = Math.max(current.length, end - current.address);
        current.specs.push(spec);
      } else {
        current = { table, address: spec.address, length: width(spec.type), specs: [spec] };
        plans.push(current);
      }
    }
  }
  return plans;
}
