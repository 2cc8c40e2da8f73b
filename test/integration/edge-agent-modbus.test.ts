import { afterEach, describe, expect, it } from 'vitest';
import { encodeRegister, loadProfile, ModbusDevice } from '../../edge-agent/modbus/index.js';
import { startModbusServer } from '../support/modbus-server.js';

type Server = Awaited<ReturnType<typeof startModbusServer>>;
let server: Server | null = null;
let device: ModbusDevice | null = null;
afterEach(async () => {
  await device?.close();
  await server?.close();
  device = null;
  server = null;
});

const EXPECTED: Record<string, Record<string, number>> = {
  'three-phase-meter': { energy_kwh: 183220.41, power_kw: -12.345, voltage_v: 231.4, current_a: 17.83, power_factor: 0.912 },
  'machine-plc': { state: 2, output_units: 123456, temperature_c: -4.5, vibration_mm_s: 2.75 },
  'gas-meter': { gas_m3: 98765.432, pressure_kpa: 301.25, gas_lel_pct: 3.5 },
};

function serve(s: Server, profileName: string) {
  const profile = loadProfile(profileName);
  for (const r of profile.registers) s.set(r.table, r.address, encodeRegister(EXPECTED[profileName]![r.metric]!, r));
  return profile;
}

describe('Modbus TCP source against a real Modbus server', () => {
  it.each(Object.keys(EXPECTED))('profile %s decodes the right engineering values', async (name) => {
    server = await startModbusServer();
    const profile = serve(server, name);
    device = new ModbusDevice({ host: '127.0.0.1', port: server.port, unitId: 1, profile });
    const sample = await device.poll(1_800_000_000_000);
    expect(sample.bad).toBeUndefined();
    for (const [metric, value] of Object.entries(EXPECTED[name]!)) expect(sample.m[metric], metric).toBeCloseTo(value, 3);
  });

  it('a failing register yields a bad-quality sample for exactly its metrics, never a zero', async () => {
    server = await startModbusServer();
    const profile = serve(server, 'three-phase-meter');
    server.failing.add('holding:5'); // current_a's register
    device = new ModbusDevice({ host: '127.0.0.1', port: server.port, unitId: 1, profile, maxGap: 0 });
    const sample = await device.poll(1);
    // current_a is read together with its adjacent registers: the whole read fails, and says so.
    expect(sample.bad).toEqual(expect.arrayContaining(['current_a']));
    expect(sample.m.current_a).toBeUndefined();
    for (const metric of sample.bad!) expect(sample.m[metric]).toBeUndefined();
    expect(device.health.readErrors).toBeGreaterThan(0);
    server.failing.clear();
    const again = await device.poll(2);
    expect(again.bad).toBeUndefined();
    expect(again.m.current_a).toBeCloseTo(17.83, 3);
  });

  it('recovers when the server disconnects and comes back on the same port', async () => {
    server = await startModbusServer();
    const port = server.port;
    const profile = serve(server, 'machine-plc');
    device = new ModbusDevice({ host: '127.0.0.1', port, unitId: 1, profile, timeoutMs: 300 });
    expect((await device.poll(1)).m.state).toBe(2);
    await server.close();
    const down = await device.poll(2);
    expect(down.m).toEqual({});
    expect(down.bad?.sort()).toEqual(['output_units', 'state', 'temperature_c', 'vibration_mm_s']);
    server = await startModbusServer(port);
    serve(server, 'machine-plc');
    const deadline = Date.now() + 10_000;
    let sample = await device.poll(3);
    while (sample.bad && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      sample = await device.poll(4);
    }
    expect(sample.bad).toBeUndefined();
    expect(sample.m.output_units).toBe(123456);
    expect(device.health.connected).toBe(true);
  });
});
