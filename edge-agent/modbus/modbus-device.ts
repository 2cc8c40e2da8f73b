import modbusSerial from 'modbus-serial';

// modbus-serial is CommonJS (`module.exports = ModbusRTU`); its typings describe an ES default,
// which NodeNext resolution turns into the module namespace. Take the class from there.
type ModbusClient = InstanceType<typeof modbusSerial.default>;
const ModbusRTU = modbusSerial as unknown as new () => ModbusClient;
import type { Logger } from 'pino';
import type { Sample } from '../../src/contract/index.js';
import { Backoff } from '../../src/retry/index.js';
import { decodeRegister, planReads, type ReadPlan } from './registers.js';
import type { Profile } from './profile.js';

export interface ModbusDeviceOptions {
  host: string;
  port: number;
  unitId: number;
  profile: Profile;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Merge reads across gaps of up to this many registers. */
  maxGap?: number;
  logger?: Logger;
}

export interface PollHealth {
  connected: boolean;
  readErrors: number;
  lastError: string | null;
}

/**
 * One Modbus TCP device read with a profile. `poll(ts)` always returns a sample: the metrics it
 * could read in `m`, the ones it could not in `bad` (never a zero for a failed read). While the
 * device is unreachable it reconnects with exponential backoff and jitter (500 ms → 30 s), and
 * polls in between report every metric as bad.
 */
export class ModbusDevice {
  private client: ModbusClient = new ModbusRTU();
  private readonly plans: ReadPlan[];
  private connecting: Promise<void> | null = null;
  private nextAttemptAt = 0;
  // Equal jitter: a device that is rebooting gets at least half of each pause.
  private readonly reconnect = new Backoff({ baseMs: 500, maxMs: 30_000, jitter: 'equal' });
  readonly health: PollHealth = { connected: false, readErrors: 0, lastError: null };

  constructor(private readonly opts: ModbusDeviceOptions) {
    this.plans = planReads(opts.profile.registers, opts.maxGap ?? 0);
  }

  /** Number of Modbus requests one poll makes (adjacent registers are read together). */
  get readsPerPoll(): number {
    return this.plans.length;
  }

  private fail(err: unknown): void {
    this.health.readErrors++;
    this.health.lastError = (err as Error).message ?? String(err);
  }

  private async ensureConnected(): Promise<boolean> {
    if (this.client.isOpen) return true;
    if (Date.now() < this.nextAttemptAt) return false;
    this.connecting ??= (async () => {
      try {
        this.client = new ModbusRTU(); // a fresh client: the old socket may be half-dead
        await this.client.connectTCP(this.opts.host, { port: this.opts.port });
        this.client.setID(this.opts.unitId);
        this.client.setTimeout(this.opts.timeoutMs ?? 1000);
        this.reconnect.reset();
        this.health.connected = true;
        this.opts.logger?.info({ host: this.opts.host, port: this.opts.port }, 'modbus device connected');
      } catch (err) {
        this.health.connected = false;
        this.fail(err);
        this.nextAttemptAt = Date.now() + this.reconnect.next();
        this.opts.logger?.warn({ host: this.opts.host, port: this.opts.port, err: (err as Error).message, retryInMs: this.nextAttemptAt - Date.now() }, 'modbus device unreachable');
      } finally {
        this.connecting = null;
      }
    })();
    await this.connecting;
    return this.client.isOpen;
  }

  async poll(ts: number): Promise<Sample> {
    const m: Record<string, number> = {};
    const bad: string[] = [];
    const connected = await this.ensureConnected();
    for (const plan of this.plans) {
      if (!connected) {
        bad.push(...plan.specs.map((s) => s.metric));
        continue;
      }
      try {
        const res = plan.table === 'holding' ? await this.client.readHoldingRegisters(plan.address, plan.length) : await this.client.readInputRegisters(plan.address, plan.length);
        for (const spec of plan.specs) {
          const at = spec.address - plan.address;
          const value = decodeRegister(res.data.slice(at, at + 2), spec);
          if (Number.isFinite(value)) m[spec.metric] = Math.round(value * 1e6) / 1e6;
          else bad.push(spec.metric); // e.g. a float32 NaN from the device
        }
      } catch (err) {
        this.fail(err);
        bad.push(...plan.specs.map((s) => s.metric));
        // A timeout or a reset socket: drop the connection so the next poll reconnects.
        const code = (err as NodeJS.ErrnoException).code ?? (err as { name?: string }).name;
        if (!this.client.isOpen || code === 'ETIMEDOUT' || code === 'TransactionTimedOutError' || code === 'ECONNRESET' || code === 'PortNotOpenError') {
          this.health.connected = false;
          this.client.close(() => undefined);
        }
      }
    }
    return bad.length ? { ts, m, bad } : { ts, m };
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.client.isOpen ? this.client.close(() => resolve()) : resolve()));
  }
}
