/**
 * `npm run bench:agent`: the edge agent's footprint with 20 devices polled every second
 * (simulated machines, or Modbus meters served by modbus-serial's TCP server in this process
 * with PP_FOOTPRINT_SOURCE=modbus), publishing to a real Mosquitto. Reports the agent process's
 * RSS (median and max) and CPU (% of one core) over PP_FOOTPRINT_SECONDS (default 60). Builds first.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRegister, loadProfile } from '../../edge-agent/modbus/index.js';
import { startModbusServer } from '../../test/support/modbus-server.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { reapOnExit } from '../../test/support/child-reaper.js';

const seconds = Number(process.env.PP_FOOTPRINT_SECONDS ?? 60);
const source = process.env.PP_FOOTPRINT_SOURCE ?? 'simulator';
const TICKS = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function main() {
  const broker = await startMosquitto();
  const dir = await mkdtemp(join(tmpdir(), 'pp-footprint-'));
  const modbus = source === 'modbus' ? await startModbusServer() : null;
  if (modbus) {
    const profile = loadProfile('three-phase-meter');
    for (const r of profile.registers) modbus.set(r.table, r.address, encodeRegister(10, r));
  }
  const devices = Array.from({ length: 20 }, (_, i) =>
    modbus ? { id: `meter-${i}`, line: 'line-1', source: 'modbus', host: '127.0.0.1', port: modbus.port, profile: 'three-phase-meter', pollIntervalMs: 1000 } : { id: `m-${i}`, line: 'line-1', source: 'simulator', pollIntervalMs: 1000, seed: i },
  );
  const file = join(dir, 'agent.json');
  await writeFile(file, JSON.stringify({ broker: { url: broker.url }, gateway: { id: 'gw-footprint', site: 'site-f' }, queue: { dir: join(dir, 'q') }, devices }));
  // Default: the built agent (`npm run build` first), as installed on a gateway. PP_FOOTPRINT_TSX=1
  // measures running from source through tsx, whose loader adds its own memory.
  const args = process.env.PP_FOOTPRINT_TSX ? ['--import', 'tsx', 'edge-agent/cli.ts'] : ['dist/edge-agent/cli.js'];
  const child = reapOnExit(spawn(process.execPath, [...args, '--config', file, '--log-level', 'warn'], { stdio: 'inherit' }));
  const pid = child.pid!;
  await new Promise((r) => setTimeout(r, 10_000)); // start-up (tsx compiles) is not steady state
  const t0 = cpuTicks(pid);
  const rss: number[] = [];
  for (let s = 0; s < seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(rssMiB(pid));
  }
  const cpuPct = ((cpuTicks(pid) - t0) / TICKS / seconds) * 100;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const sorted = [...rss].sort((a, b) => a - b);
  process.stdout.write(`agent footprint (${source}, 20 devices, 1 s polling, ${seconds} s): RSS median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} MiB, max ${sorted.at(-1)!.toFixed(1)} MiB; CPU ${cpuPct.toFixed(2)} % of one core\n`);
  await modbus?.close();
  await broker.stop();
  await rm(dir, { recursive: true, force: true });
}

main().catch((err: Error) => {
  process.stderr.write(`footprint failed: ${err.stack}\n`);
  process.exit(1);
});
