/**
 * `npx tsx load-tests/bench/wire-encode.ts [--rounds 9]`: what the load generator's gateway spends
 * per message to turn the fleet's messages into the bytes of one socket write, two ways, alternated
 * in one process: a Buffer per PUBLISH joined by Buffer.concat per turn of the event loop
 * (`publishPacket`), and PUBLISHes written in place into one output buffer (`writePublish`, as
 * wire-gateway.ts does). Messages are the fleet's (recorded-telemetry.ts), 1-sample and 10-sample,
 * in turns of as many messages as a gateway writes at once in the closed loop (about 9 and 6).
 */
import { loadAverage } from './proc-stats.js';
import { publishLength, publishPacket, topicBytes, writePublish } from './mqtt-wire.js';
import { RecordedTelemetry } from './recorded-telemetry.js';
import { median } from './stats.js';
import { Workload } from './workload.js';

const at = process.argv.indexOf('--rounds');
const rounds = at >= 0 ? Number(process.argv[at + 1]) : 9;
const say = (s: string) => process.stdout.write(`${s}\n`);
const topic = topicBytes('pp/v1/site-01/line-01/m-001/metrics');
let written = 0; // kept, so nothing is optimised away

say(`PUBLISH encoding per message, ${rounds} rounds, load average ${loadAverage()}`);
for (const [per, turn] of [
  [1, 9],
  [10, 6],
] as const) {
  const workload = new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: per });
  const telemetry = new RecordedTelemetry(workload);
  const messages = Array.from({ length: 2000 }, (_, i) => telemetry.nextMessage(i % workload.size, i).json);
  const perTurnBuffers = () => {
    let out: Buffer[] = [];
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const b = publishPacket(topic, 1 + (i & 1023), messages[i]!);
      out.push(b);
      bytes += b.length;
      if (out.length === turn) {
        written += Buffer.concat(out, bytes).length;
        out = [];
        bytes = 0;
      }
    }
  };
  let buf = Buffer.allocUnsafe(64 * 1024);
  let from = 0;
  let end = 0;
  const inPlace = () => {
    for (let i = 0, n = 0; i < messages.length; i++) {
      const payload = messages[i]!;
      const bytes = Buffer.byteLength(payload, 'utf8');
      const length = publishLength(topic, bytes);
      if (end + length > buf.length) {
        const pending = buf.subarray(from, end);
        buf = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * (pending.length + length)));
        from = 0;
        end = pending.copy(buf, 0);
      }
      end = writePublish(buf, end, topic, 1 + (i & 1023), payload, bytes);
      if (++n === turn) {
        written += buf.subarray(from, end).length;
        from = end;
        n = 0;
      }
    }
  };
  const us: Record<string, number[]> = { 'a Buffer per PUBLISH, concat per turn': [], 'in place': [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of r % 2 === 0 ? ([['a Buffer per PUBLISH, concat per turn', perTurnBuffers], ['in place', inPlace]] as const) : ([['in place', inPlace], ['a Buffer per PUBLISH, concat per turn', perTurnBuffers]] as const)) {
      const cpu0 = process.cpuUsage();
      for (let k = 0; k < 50; k++) fn();
      const cpu = process.cpuUsage(cpu0);
      us[name]!.push((cpu.user + cpu.system) / (50 * messages.length));
    }
  }
  const [a, b] = Object.values(us).map((xs) => median(xs));
  say(`${per}-sample messages: a Buffer per PUBLISH ${a!.toFixed(2)} µs per message, in place ${b!.toFixed(2)} (×${(b! / a!).toFixed(2)})`);
}
if (written === 0) throw new Error('nothing written');
