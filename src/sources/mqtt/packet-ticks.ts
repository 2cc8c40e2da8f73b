import { createRequire } from 'node:module';

/**
 * MQTT.js's `nextTick`, batched: one `process.nextTick` per burst instead of one per packet.
 *
 * MQTT.js handles the packets of a socket read one after another, each in a tick of its own: when
 * a packet is handled it calls `nextTick(work)` for the next one (its `nextTickWork`). Node runs
 * the whole tick queue, ticks queued meanwhile included, before any promise reaction, so those
 * ticks only cost their scheduling: a tick object and the queue's bookkeeping per packet, about
 * 10 % of the receive path with one-sample messages (load-tests/bench/mqtt-receive.ts, profiled).
 *
 * Here the callbacks MQTT.js queues go in one array, run in order by a single process tick, which
 * also runs those queued while it runs, as Node's queue would: still before any promise reaction
 * (so a release, and the window's resumption, come as before: after the burst). A callback that
 * throws leaves the rest queued for the next tick, and the error goes where it went.
 *
 * MQTT.js calls `nextTick` only for its packet loop and its store's close; it reads it from its
 * `lib/shared` module at each call, where it is replaced once for the process.
 */

const queue: (() => void)[] = [];
let head = 0;

function runQueued(): void {
  try {
    while (head < queue.length) {
      const callback = queue[head]!;
      queue[head++] = undefined as never; // not kept alive by the array until the burst ends
      callback();
    }
  } finally {
    if (head < queue.length) process.nextTick(runQueued);
    else {
      queue.length = 0;
      head = 0;
    }
  }
}

/** Run `callback` in a process tick, after those queued before it. */
export function batchedNextTick(callback: () => void): void {
  if (queue.length === 0) process.nextTick(runQueued);
  queue.push(callback);
}

interface SharedModule {
  nextTick: (callback: () => void) => void;
}

/** Give MQTT.js the batched tick (idempotent). */
export function batchMqttTicks(mod: SharedModule = createRequire(createRequire(import.meta.url).resolve('mqtt'))('./lib/shared.js') as SharedModule): void {
  if (mod.nextTick === batchedNextTick) return;
  if (typeof mod.nextTick !== 'function') throw new Error('mqtt internals changed: lib/shared has no nextTick; src/sources/mqtt/packet-ticks.ts must be adapted');
  mod.nextTick = batchedNextTick;
}
