import type { StatusState } from '../contract/index.js';
import { orNull, type DeviceState, type StoredDeviceState } from './device-state.js';
import type { SeqGap } from './seq-tracker.js';

/**
 * A device state as one `quality_device` row holds it (quality-store.ts): its numbers in a fixed
 * layout of little-endian doubles (a BLOB), its strings and its open seq gaps (JSON, and only
 * when there are any) in columns of their own.
 *
 * Why not JSON of the whole state, as before: the state is saved after every burst of stored
 * messages, before they are acknowledged, and JSON.stringify wrote every timestamp and each of
 * the 32 learned spacings as decimal text, about 300 bytes a device, most of it the same spacing
 * 32 times. Here numbers are copied as they are (exact, -Infinity included) and the spacings run
 * length encoded: a device sampling at a steady rate is 128 bytes, written without any number
 * turned into text.
 *
 * Layout: [FORMAT, epoch, highest, lastSeq.epoch, lastSeq.seq, firstTs, newestTs, prevTs,
 * firstHeard, lastArrival, statusAt, lastAdvance, tooLate, abandoned, then (spacing, repeats)
 * pairs in order]. NaN stands for null (`highest` before the first message, `lastSeq` none):
 * no state holds NaN.
 */
const FORMAT = 1;
const HEAD = 14;
/** The learner keeps 32 spacings (interval-learner.ts): at most 32 runs. */
const MAX_DOUBLES = HEAD + 2 * 32;

export interface DeviceRow {
  packed: Buffer;
  gaps: string | null;
  status: StatusState | null;
  statusReason: string | null;
  gateway: string | null;
}

/**
 * Packs states into one reused buffer: what `row` returns is valid until the next call (SQLite
 * copies a bound BLOB, so a save binds it and is done with it). One view per length is kept, so
 * a save makes no Buffer object either.
 */
export class DeviceRowWriter {
  private readonly buf = Buffer.alloc(MAX_DOUBLES * 8);
  private readonly views: Buffer[] = [];
  private readonly out: DeviceRow = { packed: this.buf, gaps: null, status: null, statusReason: null, gateway: null };

  row(s: DeviceState): DeviceRow {
    const b = this.buf;
    b.writeDoubleLE(FORMAT, 0);
    b.writeDoubleLE(s.seq.epoch, 8);
    b.writeDoubleLE(s.seq.highest ?? NaN, 16);
    b.writeDoubleLE(s.lastSeq === null ? NaN : s.lastSeq.epoch, 24);
    b.writeDoubleLE(s.lastSeq === null ? NaN : s.lastSeq.seq, 32);
    b.writeDoubleLE(s.firstTs, 40);
    b.writeDoubleLE(s.newestTs, 48);
    b.writeDoubleLE(s.prevTs, 56);
    b.writeDoubleLE(s.firstHeard, 64);
    b.writeDoubleLE(s.lastArrival, 72);
    b.writeDoubleLE(s.statusAt, 80);
    b.writeDoubleLE(s.lastAdvance, 88);
    b.writeDoubleLE(s.tooLate, 96);
    b.writeDoubleLE(s.abandoned, 104);
    let at = HEAD * 8;
    const sp = s.spacings;
    for (let i = 0; i < sp.length; ) {
      if (at === b.length) throw new RangeError(`a device state holds ${sp.length} spacings, more than a saved row has room for`);
      const v = sp[i]!;
      let j = i + 1;
      while (j < sp.length && sp[j] === v) j++;
      b.writeDoubleLE(v, at);
      b.writeDoubleLE(j - i, at + 8);
      at += 16;
      i = j;
    }
    const o = this.out;
    o.packed = this.view(at);
    o.gaps = s.seq.gaps.length === 0 ? null : JSON.stringify(s.seq.gaps);
    o.status = s.status;
    o.statusReason = s.statusReason;
    o.gateway = s.gateway;
    return o;
  }

  private view(bytes: number): Buffer {
    const i = bytes / 16; // HEAD * 8 is a multiple of 16 too
    return (this.views[i] ??= this.buf.subarray(0, bytes));
  }
}

/** A row's state in the stored form (null for a time not yet happened), as a saved JSON state reads. */
export function storedStateOfRow(packed: Buffer, gaps: string | null, status: string | null, statusReason: string | null, gateway: string | null): StoredDeviceState {
  if (packed.length < HEAD * 8 || packed.length % 16 !== 0) throw new RangeError(`a saved device state of ${packed.length} bytes is not one this release wrote`);
  const format = packed.readDoubleLE(0);
  if (format !== FORMAT) throw new RangeError(`a saved device state in format ${format}, not one this release reads`);
  const d = (i: number) => packed.readDoubleLE(i * 8);
  const time = (i: number) => orNull(d(i));
  const highest = d(2);
  const lastEpoch = d(3);
  const spacings: number[] = [];
  for (let at = HEAD * 8; at < packed.length; at += 16) {
    const v = packed.readDoubleLE(at);
    for (let n = packed.readDoubleLE(at + 8); n > 0; n--) spacings.push(v);
  }
  return {
    seq: { epoch: d(1), highest: Number.isNaN(highest) ? null : highest, gaps: gaps === null ? [] : (JSON.parse(gaps) as SeqGap[]) },
    lastSeq: Number.isNaN(lastEpoch) ? null : { epoch: lastEpoch, seq: d(4) },
    spacings,
    firstTs: time(5),
    newestTs: time(6),
    prevTs: time(7),
    firstHeard: time(8),
    lastArrival: time(9),
    status: status as StatusState | null,
    statusAt: time(10),
    statusReason,
    gateway,
    lastAdvance: time(11),
    tooLate: d(12),
    abandoned: d(13),
  };
}
