import modbusSerial from 'modbus-serial';
import { freePort } from './ports.js';

type ServerTCPType = InstanceType<typeof modbusSerial.ServerTCP>;
const { ServerTCP } = modbusSerial as unknown as { ServerTCP: new (vector: object, options: object) => ServerTCPType };

/**
 * A real Modbus TCP server (modbus-serial's own), in-process, serving registers from tables the
 * test controls. Addresses listed in `failing` answer with exception 4 (server device failure).
 */
export async function startModbusServer(port?: number) {
  const holding = new Map<number, number>();
  const input = new Map<number, number>();
  const failing = new Set<string>();
  const p = port ?? (await freePort());
  const read = (table: Map<number, number>, name: string) => (addr: number, length: number) => {
    for (let a = addr; a < addr + length; a++) {
      if (failing.has(`${name}:${a}`)) throw { modbusErrorCode: 0x04, msg: 'injected failure' };
    }
    return Array.from({ length }, (_, i) => table.get(addr + i) ?? 0);
  };
  const vector = {
    getMultipleHoldingRegisters: read(holding, 'holding'),
    getMultipleInputRegisters: read(input, 'input'),
    getHoldingRegister: (addr: number) => read(holding, 'holding')(addr, 1)[0],
    getInputRegister: (addr: number) => read(input, 'input')(addr, 1)[0],
  };
  const server = new ServerTCP(vector, { host: '127.0.0.1', port: p, unitID: 1 });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', (err: unknown) => reject(err));
  });
  return {
    port: p,
    holding,
    input,
    failing,
    /** Write words at an address of a table. */
    set(table: 'holding' | 'input', address: number, words: number[]) {
      words.forEach((w, i) => (table === 'holding' ? holding : input).set(address + i, w));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const sock of server.socks.keys()) sock.destroy();
        server.close(() => resolve());
      }),
  };
}
