import type { StatusState } from '../contract/index.js';
import { initialSeqState, type SeqState } from './seq-tracker.js';

/**
 * "Not yet" for a time a device state holds (first heard, last arrival, newest sample…).
 * A number, not null: V8 keeps a field that only ever holds numbers as one number box written
 * in place, while a field that held null in some state objects boxes every timestamp written to
 * it afresh (a timestamp is too large for a small integer): 16 bytes of garbage per write, and
 * several are written per stored message. -Infinity is before every time, and JSON writes it as
 * null, so saved and handed-over states read as they always did (`storedDeviceState`).
 */
export const NEVER = -Infinity;

/**
 * Everything the completeness stage keeps about one device's data delivery (times are NEVER
 * until they happen).
 */
export interface DeviceState {
  seq: SeqState;
  /** Epoch and seq of the last message that moved the sequence, to learn spacing across consecutive messages only. */
  lastSeq: { epoch: number; seq: number } | null;
  spacings: number[];
  /** Oldest and newest sample time received, and the last one received (arrival order). */
  firstTs: number;
  newestTs: number;
  prevTs: number;
  /** Arrival time of the first batch received from the device: it is watched (online time, silence) from then on. */
  firstHeard: number;
  lastArrival: number;
  /** The device's own status topic (a status heard before any data is applied when the data comes). */
  status: StatusState | null;
  statusAt: number;
  statusReason: string | null;
  /** The gateway (MQTT client id) its status names, or whose birth lists it. */
  gateway: string | null;
  /** Online time is accounted up to here. */
  lastAdvance: number;
  /** Samples not accounted because their day was past the late horizon when they arrived. */
  tooLate: number;
  /** Missing seq numbers given up on (counter reset, gap older than the horizon). */
  abandoned: number;
}

/** The times a state holds that are NEVER until they happen. */
type Times = 'firstTs' | 'newestTs' | 'prevTs' | 'firstHeard' | 'lastArrival' | 'statusAt' | 'lastAdvance';

/** A device state as SQLite and a hand-over hold it (JSON): null for a time that has not happened; any field may be missing in an older form. */
export type StoredDeviceState = Omit<DeviceState, Times> & { [K in Times]: number | null };

export function initialDeviceState(): DeviceState {
  return deviceState(initialSeqState(), null, [], NEVER, NEVER, NEVER, NEVER, NEVER, null, NEVER, null, null, NEVER, 0, 0);
}

/**
 * A state from its stored form (fields it lacks take their initial values, null times are
 * NEVER), built whole by one constructor so every device state has the same shape (a state
 * spread from parsed JSON would have another, with null-typed fields). Its objects are copies:
 * a tracker moves its state in place (seq-tracker.ts), and what it was read from (a hand-over's
 * JSON) stays as it was.
 */
export function deviceStateFrom(saved: Partial<StoredDeviceState>): DeviceState {
  const s = saved;
  return deviceState(
    s.seq ? { epoch: s.seq.epoch, highest: s.seq.highest, gaps: (s.seq.gaps ?? []).map((g) => ({ from: g.from, to: g.to, at: g.at })) } : initialSeqState(),
    s.lastSeq ? { epoch: s.lastSeq.epoch, seq: s.lastSeq.seq } : null,
    s.spacings ?? [],
    s.firstTs ?? NEVER,
    s.newestTs ?? NEVER,
    s.prevTs ?? NEVER,
    s.firstHeard ?? NEVER,
    s.lastArrival ?? NEVER,
    s.status ?? null,
    s.statusAt ?? NEVER,
    s.statusReason ?? null,
    s.gateway ?? null,
    s.lastAdvance ?? NEVER,
    s.tooLate ?? 0,
    s.abandoned ?? 0,
  );
}

/** The stored form of a state: a deep copy, null for NEVER (what JSON.stringify of the state writes too). */
export function storedDeviceState(s: DeviceState): StoredDeviceState {
  return {
    seq: { epoch: s.seq.epoch, highest: s.seq.highest, gaps: (s.seq.gaps ?? []).map((g) => ({ from: g.from, to: g.to, at: g.at })) },
    lastSeq: s.lastSeq === null ? null : { epoch: s.lastSeq.epoch, seq: s.lastSeq.seq },
    spacings: [...s.spacings],
    firstTs: orNull(s.firstTs),
    newestTs: orNull(s.newestTs),
    prevTs: orNull(s.prevTs),
    firstHeard: orNull(s.firstHeard),
    lastArrival: orNull(s.lastArrival),
    status: s.status,
    statusAt: orNull(s.statusAt),
    statusReason: s.statusReason,
    gateway: s.gateway,
    lastAdvance: orNull(s.lastAdvance),
    tooLate: s.tooLate,
    abandoned: s.abandoned,
  };
}

/** A time for the outside (API, stored form): null when NEVER. */
export function orNull(t: number): number | null {
  return t === NEVER ? null : t;
}

function deviceState(
  seq: SeqState,
  lastSeq: DeviceState['lastSeq'],
  spacings: number[],
  firstTs: number,
  newestTs: number,
  prevTs: number,
  firstHeard: number,
  lastArrival: number,
  status: StatusState | null,
  statusAt: number,
  statusReason: string | null,
  gateway: string | null,
  lastAdvance: number,
  tooLate: number,
  abandoned: number,
): DeviceState {
  return { seq, lastSeq, spacings, firstTs, newestTs, prevTs, firstHeard, lastArrival, status, statusAt, statusReason, gateway, lastAdvance, tooLate, abandoned };
}
