import type { Logger } from 'pino';
import type { DeviceRef, Sample } from '../src/contract/index.js';
import type { DeviceConfig } from './config/agent-config.js';
import type { ModbusDevice } from './modbus/index.js';
import { Machine, MACHINE_CLASSES, Rng } from './simulator/index.js';

/** Where a device's samples come from: a Modbus meter or a simulated machine. */
export interface SampleSource {
  poll(ts: number): Promise<Sample>;
  health(): { readErrors: number; lastError: string | null; connected: boolean };
  close(): Promise<void>;
}

class SimulatedSource implements SampleSource {
  private readonly machine: Machine;
  private last = 0;
  constructor(ref: DeviceRef, machineClass: string, seed: number) {
    this.machine = new Machine(ref, MACHINE_CLASSES.find((c) => c.name === machineClass)!, new Rng(seed));
  }
  async poll(ts: number): Promise<Sample> {
    if (this.last) this.machine.step(ts - this.last);
    this.last = ts;
    return this.machine.sample(ts);
  }
  health() {
    return { readErrors: 0, lastError: null, connected: true };
  }
  async close() {}
}

class ModbusSource implements SampleSource {
  constructor(private readonly device: ModbusDevice) {}
  poll(ts: number) {
    return this.device.poll(ts);
  }
  health() {
    return this.device.health;
  }
  close() {
    return this.device.close();
  }
}

export async function createSource(site: string, d: DeviceConfig, log?: Logger): Promise<SampleSource> {
  const ref = { site, line: d.line, device: d.id };
  if (d.source === 'simulator') return new SimulatedSource(ref, d.machineClass, d.seed);
  // Loaded on demand: the Modbus library (and its serial-port bindings) costs ~15 MiB of RSS,
  // which a gateway without Modbus devices should not pay.
  const { loadProfile, ModbusDevice } = await import('./modbus/index.js');
  const profile = loadProfile(d.profile);
  return new ModbusSource(new ModbusDevice({ host: d.host, port: d.port, unitId: d.unitId, profile, timeoutMs: d.timeoutMs, logger: log?.child({ device: d.id }) }));
}
