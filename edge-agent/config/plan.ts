import type { AgentConfig } from './agent-config.js';
import { loadProfile } from '../modbus/profile.js';
import { planReads } from '../modbus/registers.js';

/** What `--check` prints: the validated plan, device by device, with the Modbus reads it will make. */
export function describePlan(c: AgentConfig): string {
  const lines = [
    `configuration OK`,
    `gateway ${c.gateway.id} at site ${c.gateway.site}, broker ${c.broker.url} (MQTT ${c.broker.protocolVersion === 5 ? '5' : '3.1.1'}${c.broker.tls ? ', TLS' : ''})`,
    `queue ${c.queue.dir}: at most ${c.queue.maxBytes} bytes (oldest dropped beyond), catch-up ${c.queue.catchUpMessagesPerSecond} messages/s`,
    `publish every ${c.publish.intervalMs} ms, at most ${c.publish.maxSamplesPerMessage} samples a message; status every ${c.statusIntervalMs} ms`,
    `devices:`,
  ];
  for (const d of c.devices) {
    if (d.source === 'simulator') {
      lines.push(`  ${d.line}/${d.id}: simulated ${d.machineClass} (seed ${d.seed}), every ${d.pollIntervalMs} ms`);
      continue;
    }
    const profile = loadProfile(d.profile);
    const reads = planReads(profile.registers);
    lines.push(`  ${d.line}/${d.id}: modbus ${d.host}:${d.port} unit ${d.unitId}, profile ${profile.name}, every ${d.pollIntervalMs} ms`);
    for (const r of reads) lines.push(`    read ${r.table} ${r.address}..${r.address + r.length - 1} → ${r.specs.map((s) => s.metric).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
