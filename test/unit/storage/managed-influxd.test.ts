import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findOnPath, influxdConfig, influxdEnv, startManagedInfluxd } from '../../../src/storage/index.js';

// Start-up failures, with stand-in "influxd" scripts (the real influxd is started in
// test/integration/storage).
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-managed-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function script(name: string, body: string, mode = 0o755): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, mode);
  return path;
}

describe('findOnPath', () => {
  it('finds an executable file on PATH, in PATH order', async () => {
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'tool'), 'not executable', { mode: 0o644 });
    await writeFile(join(dir, 'b', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    await mkdir(join(dir, 'a', 'sub'));
    const path = ['', join(dir, 'a'), join(dir, 'b')].join(':');
    expect(findOnPath('tool', path)).toBe(join(dir, 'b', 'tool'));
    expect(findOnPath('sub', path)).toBeNull(); // a directory is not a program
    expect(findOnPath('missing', path)).toBeNull();
  });
});

describe('influxdConfig', () => {
  it('binds HTTP and RPC to loopback, keeps data in the data dir and turns reporting off', () => {
    const conf = influxdConfig('/srv/pp "data"', 18086, 18088);
    expect(conf).toMatch(/^reporting-disabled = true$/m);
    expect(conf).toMatch(/^reporting-enabled = false$/m);
    expect(conf).toMatch(/^bind-address = "127\.0\.0\.1:18088"$/m); // top level: the RPC service
    expect(conf).toMatch(/^\[http\]\n {2}enabled = true\n {2}bind-address = "127\.0\.0\.1:18086"$/m);
    expect(conf).toContain('dir = "/srv/pp \\"data\\"/meta"'); // TOML string escaping
    expect(conf).toContain('wal-dir = "/srv/pp \\"data\\"/wal"');
    for (const section of ['graphite', 'collectd', 'opentsdb', 'udp']) expect(conf).toMatch(new RegExp(`\\[\\[${section}\\]\\]\\n {2}enabled = false`));
  });
});

describe('influxd tuning', () => {
  it('snapshots the cache at 10 MB; a setting given replaces the default rather than repeating the key (TOML refuses that)', () => {
    expect(influxdConfig('/d', 1, 2)).toMatch(/^\[data\]\n(?: {2}.*\n)* {2}cache-snapshot-memory-size = "10m"\n/m);
    const conf = influxdConfig('/d', 1, 2, { 'cache-snapshot-memory-size': '25m', 'max-concurrent-compactions': 1, 'trace-logging-enabled': false });
    expect(conf.match(/cache-snapshot-memory-size/g)).toHaveLength(1);
    expect(conf).toContain('  cache-snapshot-memory-size = "25m"\n  max-concurrent-compactions = 1\n  trace-logging-enabled = false\n');
  });
  it('gives influxd GOGC=200 unless our environment sets GOGC; extra variables win', () => {
    expect(influxdEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', GOGC: '200' });
    expect(influxdEnv({ GOGC: '', PATH: '/bin' }).GOGC).toBe('200');
    expect(influxdEnv({ GOGC: 'off' }).GOGC).toBe('off');
    expect(influxdEnv({ GOGC: 'off' }, { GOGC: '100', GOMAXPROCS: '1' })).toEqual({ GOGC: '100', GOMAXPROCS: '1' });
  });
  it('starts influxd with that environment', async () => {
    const bin = await script('influxd', `echo "GOGC=$GOGC" > ${join(dir, 'env.txt')}; exit 1`);
    await startManagedInfluxd({ binary: bin, dataDir: join(dir, 'data'), env: { GOGC: '150' } }).catch(() => null);
    expect(await readFile(join(dir, 'env.txt'), 'utf8')).toBe('GOGC=150\n');
  });
});

describe('startManagedInfluxd failures', () => {
  it('an influxd that exits at once: the error quotes its last log lines', async () => {
    const bin = await script('influxd', 'echo "run: open server: open meta: permission denied" >&2; exit 3');
    const err = await startManagedInfluxd({ binary: bin, dataDir: join(dir, 'data') }).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/influxd exited \(3\) during start-up/);
    expect(err?.message).toContain('open meta: permission denied');
    // It was given the generated config, in the data dir.
    expect(await readFile(join(dir, 'data', 'influxd.conf'), 'utf8')).toContain('[http]');
  });

  it('an influxd that never answers /ping: a timeout error with its log, and it is killed', async () => {
    const bin = await script('influxd', `echo "starting with $1 $2"; echo $$ > ${join(dir, 'child.pid')}; exec sleep 30`);
    const started = performance.now();
    const err = await startManagedInfluxd({ binary: bin, dataDir: join(dir, 'data'), startTimeoutMs: 500 }).then(() => null, (e: Error) => e);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(err?.message).toMatch(/did not answer on http:\/\/127\.0\.0\.1:\d+\/ping within 500 ms/);
    expect(err?.message).toContain(`starting with -config ${join(dir, 'data', 'influxd.conf')}`);
    const pid = Number(await readFile(join(dir, 'child.pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(() => process.kill(pid, 0)).toThrow(); // gone
  });

  it('a binary that cannot be executed: a clear error, not a crash', async () => {
    const bin = await script('influxd', 'exit 0', 0o644);
    await expect(startManagedInfluxd({ binary: bin, dataDir: join(dir, 'data'), startTimeoutMs: 2000 })).rejects.toThrow(/^cannot start .*EACCES/);
  });
  // Stand-in for influxd: the first start reports that a port of the config was taken (as influxd
  // 1.6 prints it), every later start serves /ping on the config's HTTP port.
  async function flakyInfluxd(takenPort: 'rpc' | 'http'): Promise<string> {
    const server = join(dir, 'ping-server.cjs');
    await writeFile(
      server,
      `const port = Number(process.argv[2]);
require('node:http').createServer((req, res) => { res.setHeader('X-Influxdb-Version', 'stand-in'); res.statusCode = 204; res.end(); }).listen(port, '127.0.0.1');`,
    );
    const pick = takenPort === 'rpc' ? "grep -m1 '^bind-address' \"$2\"" : "grep -A2 '^\\[http\\]' \"$2\" | grep bind-address";
    return script(
      'influxd',
      `port=$(${pick} | sed 's/.*:\\([0-9]*\\)"/\\1/')
echo "start with port $port" >> ${join(dir, 'starts')}
if [ ! -e ${join(dir, 'failed-once')} ]; then touch ${join(dir, 'failed-once')}; echo "run: open server: open service: listen tcp 127.0.0.1:$port: bind: address already in use"; exit 1; fi
http=$(grep -A2 '^\\[http\\]' "$2" | grep bind-address | sed 's/.*:\\([0-9]*\\)"/\\1/')
exec ${process.execPath} ${server} $http`,
    );
  }

  it('a port it picked itself was taken before influxd bound it: it starts again on fresh ports', async () => {
    for (const taken of ['rpc', 'http'] as const) {
      await rm(join(dir, 'failed-once'), { force: true });
      await rm(join(dir, 'starts'), { force: true });
      const bin = await flakyInfluxd(taken);
      const started = await startManagedInfluxd({ binary: bin, dataDir: join(dir, `data-${taken}`) });
      try {
        expect((await fetch(`${started.url}/ping`)).status).toBe(204);
        const starts = (await readFile(join(dir, 'starts'), 'utf8')).trim().split('\n');
        expect(starts).toHaveLength(2); // failed once, then started
        expect(starts[0]).not.toBe(starts[1]); // the taken port was not tried again
        expect(await readFile(join(dir, `data-${taken}`, 'influxd.log'), 'utf8')).toContain('address already in use');
      } finally {
        await started.stop();
      }
    }
  });

  it('the HTTP port the caller chose was taken: no other port is tried, the error says why', async () => {
    const bin = await flakyInfluxd('http');
    const err = await startManagedInfluxd({ binary: bin, dataDir: join(dir, 'data'), httpPort: 18_123 }).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/influxd exited \(1\) during start-up/);
    expect(err?.message).toContain('listen tcp 127.0.0.1:18123: bind: address already in use');
    expect((await readFile(join(dir, 'starts'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});
