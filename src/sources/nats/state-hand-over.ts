import type { KV } from 'nats';
import { deviceKey, type DeviceRef } from '../../contract/index.js';
import type { Logger } from '../../observability/index.js';
import { consumerKeyLister, type KeyLister } from './bucket-keys.js';

/**
 * What a worker keeps about its devices, as the hand-over sees it (src/app/device-states.ts joins
 * the analytics engine, the open alerts and data completeness behind it).
 */
export interface DeviceStates {
  /** The device's state as plain JSON; null when this process knows nothing about it. */
  export(ref: DeviceRef): unknown;
  /** Go on from a state another worker exported. */
  import(ref: DeviceRef, state: unknown): void;
  /** The device comes to this worker with no state handed over (first message here): take up what this process kept of it. */
  claim(ref: DeviceRef): void;
  /** The device is processed by another worker now: drop it here. */
  forget(ref: DeviceRef): void;
  /** Whether a saved state is newer (by sample time) than what this process holds of the device. */
  isNewer(ref: DeviceRef, saved: unknown): boolean;
}

/**
 * A partition whose lease lapsed (not handed over) keeps its devices' states this long: the same
 * worker often gets it back at once (its renewal was late, e.g. under a burst), and then goes on
 * with what it holds rather than the last saved state. Short of any silence or stale-alert timeout.
 */
export const LOST_UNIT_GRACE_MS = 60_000;

interface Known {
  ref: DeviceRef;
  unit: string;
  /** Changed since its state was last saved. */
  dirty: boolean;
  /** An alert of it opened or resolved and that state is not saved yet: its messages wait (`settled`). */
  mustSave: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function stateKey(unit: string, ref: DeviceRef): string {
  return `${unit}.${ref.site}.${ref.line}.${ref.device}`;
}

/**
 * Device state that moves with a partition (docs/scale-out.md, "Hand-over"). The owner saves
 * each device's state in the key-value bucket `pp_device_state`:
 * - every `saveEveryMs`, the devices that changed since their last save;
 * - when a message changed whether an alert is open (opened, resolved) or acknowledged, that
 *   device at once, and the message is acked only after the save (`settled`): an alert opened by
 *   an acked message is always in the bucket, so the next owner continues it instead of opening
 *   a second one;
 * - when it gives the partition up, after its in-flight messages finished.
 * The next owner loads the partition's states before it reads a message of it. Saves run one at
 * a time per device and export the state when they run, so a later save never writes an older state.
 */
export class StateHandOver {
  private readonly known = new Map<string, Known>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Units whose states were restored here and not given up since. */
  private readonly owned = new Set<string>();
  private readonly graceTimers = new Set<NodeJS.Timeout>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly kv: KV,
    private readonly states: DeviceStates,
    private readonly log: Logger,
    private readonly listKeys: KeyLister = consumerKeyLister(kv),
  ) {}

  /** A message of `ref` in partition `unit` is being processed here: its state changes. */
  touched(unit: string, ref: DeviceRef): void {
    const key = deviceKey(ref);
    const k = this.known.get(key);
    if (k && k.unit === unit) {
      k.dirty = true;
      return;
    }
    const known = { ref: { site: ref.site, line: ref.line, device: ref.device }, unit, dirty: true, mustSave: false };
    this.known.set(key, known);
    try {
      this.states.claim(known.ref);
    } catch (err) {
      this.log.error({ unit, key, err: (err as Error).message }, 'what this worker kept of the device could not be taken up');
    }
  }

  /** Devices known in `unit` (for tests and /readyz). */
  devicesIn(unit: string): number {
    let n = 0;
    for (const k of this.known.values()) if (k.unit === unit) n++;
    return n;
  }

  /** Save this device now (an alert opened or resolved), behind any save of it under way. */
  saveNow(ref: DeviceRef, validUntil: (unit: string) => number): void {
    const k = this.known.get(deviceKey(ref));
    if (!k) return;
    k.mustSave = true;
    void this.save(k, validUntil).catch(() => undefined); // `settled` reports it
  }

  /**
   * Resolves once every save of this device started so far is done; rejects while a save asked
   * for by `saveNow` has not succeeded (the message is then not acked, and is delivered again).
   */
  async settled(ref: DeviceRef): Promise<void> {
    const key = deviceKey(ref);
    await this.chains.get(key)?.catch(() => undefined);
    if (this.known.get(key)?.mustSave) throw new Error(`the state of ${key} (an alert opened or resolved) is not saved yet`);
  }

  /**
   * Load a partition's saved states into this process, before reading any of its messages. Each
   * key is read once; a state that cannot be read or imported is logged and that device starts
   * from nothing (its data is not held up).
   */
  async restore(unit: string): Promise<number> {
    const keys = await this.listKeys(`${unit}.>`);
    this.owned.add(unit);
    let restored = 0;
    for (const key of keys) {
      const [, site, line, device] = key.split('.') as [string, string, string, string];
      const ref = { site, line, device };
      try {
        const entry = await this.kv.get(key);
        if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) continue;
        const saved: unknown = JSON.parse(decoder.decode(entry.value));
        // Still held here from before a lapsed lease, and not older than the saved one: go on with it.
        if (this.known.get(deviceKey(ref))?.unit === unit && !this.states.isNewer(ref, saved)) continue;
        this.states.import(ref, saved);
        this.known.set(deviceKey(ref), { ref, unit, dirty: false, mustSave: false });
        restored++;
      } catch (err) {
        this.log.error({ unit, key, err: (err as Error).message }, 'device state could not be restored; the device starts from nothing');
      }
    }
    if (keys.length > 0) this.log.info({ unit, devices: restored }, 'device states restored');
    return restored;
  }

  /** Save every changed device of `unit` (periodically, and when handing it over). */
  async saveUnit(unit: string, validUntil: (unit: string) => number): Promise<number> {
    const due = [...this.known.values()].filter((k) => k.unit === unit && k.dirty);
    const results = await Promise.allSettled(due.map((k) => this.save(k, validUntil)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) this.log.warn({ unit, failed, of: due.length }, 'device states not saved; retried at the next save');
    return due.length - failed;
  }

  /**
   * The lease lapsed: the partition may go to another worker, or come back here. Its devices'
   * states are dropped after LOST_UNIT_GRACE_MS unless it was restored here again by then.
   */
  lost(unit: string, graceMs = LOST_UNIT_GRACE_MS): void {
    this.owned.delete(unit);
    const t = setTimeout(() => {
      this.graceTimers.delete(t);
      if (!this.owned.has(unit)) this.forget(unit);
    }, graceMs);
    t.unref();
    this.graceTimers.add(t);
  }

  /** The partition was handed over (its states saved) or is another worker's: drop its devices now. */
  forget(unit: string): void {
    this.owned.delete(unit);
    for (const [key, k] of this.known) {
      if (k.unit !== unit) continue;
      this.known.delete(key);
      try {
        this.states.forget(k.ref);
      } catch (err) {
        this.log.error({ unit, key, err: (err as Error).message }, 'device state could not be dropped');
      }
    }
  }

  /** Save changed devices of the units `owned()` lists every `everyMs`. */
  start(everyMs: number, owned: () => string[], validUntil: (unit: string) => number): void {
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      void Promise.all(owned().map((u) => this.saveUnit(u, validUntil))).finally(() => (running = false));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.graceTimers) clearTimeout(t);
    this.graceTimers.clear();
  }

  private save(k: Known, validUntil: (unit: string) => number): Promise<void> {
    const key = deviceKey(k.ref);
    const run = (this.chains.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        // Only while the lease is ours: after it lapsed, the next owner may have loaded and moved on.
        if (Date.now() >= validUntil(k.unit) || this.known.get(key) !== k) return;
        k.dirty = false;
        const state = this.states.export(k.ref);
        if (state === null || state === undefined) {
          k.mustSave = false;
          return;
        }
        try {
          await this.kv.put(stateKey(k.unit, k.ref), encoder.encode(JSON.stringify(state)));
          k.mustSave = false;
        } catch (err) {
          k.dirty = true;
          throw err;
        }
      });
    this.chains.set(key, run);
    const clear = () => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    };
    run.then(clear, clear);
    return run;
  }
}
