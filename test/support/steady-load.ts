import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { GatewayPublisher, type GatewayOptions } from '../../edge-agent/index.js';

export interface SteadyLoadResult {
  messages: number;
  samples: number;
}

/**
 * A gateway publishing at a steady rate for a while, counting only what the broker
 * acknowledged. Publishes in flight when the broker goes away are resent by MQTT.js after the
 * reconnect, so every counted sample reached the broker. Sample values are unique per
 * (device, ts), so InfluxDB counts are exact.
 */
export function steadyLoad(opts: { brokerUrl: string; devices: number; messagesPerSecond: number; samplesPerMessage: number; durationMs: number; site?: string; gateway?: Pick<GatewayOptions, 'username' | 'password' | 'protocolVersion'> }) {
  const site = opts.site ?? 'site-load';
  const devices: DeviceRef[] = Array.from({ length: opts.devices }, (_, i) => ({ site, line: `line-${i % 5}`, device: `dev-${String(i).padStart(3, '0')}` }));
  const gw = new GatewayPublisher({ brokerUrl: opts.brokerUrl, gatewayId: `load-${site}`, site, devices, maxInFlight: 500, ...opts.gateway });
  let stop = false;
  const result: SteadyLoadResult = { messages: 0, samples: 0 };
  const done = (async () => {
    await gw.connect();
    const started = Date.now();
    const base = started - 3_600_000; // an hour back: never in the future, distinct per message
    const pending = new Set<Promise<void>>();
    let n = 0;
    while (!stop && Date.now() - started < opts.durationMs) {
      const due = Math.floor(((Date.now() - started) / 1000) * opts.messagesPerSecond);
      for (; n < due; n++) {
        const ref = devices[n % devices.length]!;
        const round = Math.floor(n / devices.length);
        const samples: Sample[] = Array.from({ length: opts.samplesPerMessage }, (_, k) => ({ ts: base + round * opts.samplesPerMessage + k, m: { power_kw: n + k / 100 } }));
        const p: Promise<void> = gw.publish(ref, samples).then(() => {
          result.messages++;
          result.samples += samples.length;
          pending.delete(p);
        });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(pending);
    await gw.stop();
    return result;
  })();
  return { done, progress: () => result, stop: () => (stop = true) };
}
