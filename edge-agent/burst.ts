import { deviceKey, type Sample } from '../src/contract/index.js';
import type { ResolvedOptions } from './options.js';
import type { GatewayPublisher } from './publisher/index.js';
import type { SentLog } from './sent-log.js';
import type { Machine, Plant } from './simulator/index.js';

/**
 * Burst mode: `samplesPerDevice` samples per device, spaced by the sampling interval and ending
 * at `endTs` (default now, so none is in the future), published in batches of
 * `samplesPerMessage` as fast as the broker acknowledges them. Generation waits whenever a
 * gateway's window is full, so memory is bounded by the window, whatever the burst size.
 * Resolves when every message is acknowledged (or, after `stopped()` turns true, with what was);
 * rejects with the first failed publish.
 */
export async function runBurst(plant: Plant, gateways: ReadonlyMap<string, GatewayPublisher>, opts: ResolvedOptions, log: SentLog, stopped: () => boolean): Promise<void> {
  const n = opts.samplesPerDevice!;
  const interval = opts.sampleIntervalMs;
  const endTs = opts.endTs ?? Date.now();
  const firstTs = endTs - (n - 1) * interval;
  const pending = new Set<Promise<void>>();
  const buffers = new Map<string, Sample[]>();
  let failure: Error | null = null;

  const send = async (machine: Machine, samples: Sample[]) => {
    const gw = gateways.get(machine.ref.site)!;
    await gw.whenReady();
    if (failure || stopped()) return;
    const p: Promise<void> = gw.publish(machine.ref, samples).then(
      (seq) => log.acked(machine.ref, samples, seq),
      (err: Error) => {
        failure ??= err;
      },
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  for (let k = 0; k < n && !failure && !stopped(); k++) {
    if (k > 0) plant.step(interval);
    for (const { machine, sample } of plant.sample(firstTs + k * interval)) {
      const key = deviceKey(machine.ref);
      const buf = buffers.get(key) ?? [];
      buf.push(sample);
      if (buf.length >= opts.samplesPerMessage) {
        buffers.set(key, []);
        await send(machine, buf);
      } else buffers.set(key, buf);
    }
  }
  for (const machine of plant.machines) {
    const buf = buffers.get(deviceKey(machine.ref));
    if (buf?.length && !failure) await send(machine, buf);
  }
  await Promise.all(pending);
  // A requested stop may abandon unacknowledged messages: not a failure, the result counts only acks.
  if (failure && !stopped()) throw failure;
}
