import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portOpen, serverLauncher } from './ports.js';

export interface VmalertProcess {
  url: string;
  /** Alerts in state `firing` now, by name, as vmalert's API lists them. */
  firing(): Promise<string[]>;
  /** Names of the alerts vmalert sent to its Alertmanager (a server of this helper), in order. */
  notified(): string[];
  log(): string;
  stop(): Promise<void>;
}

/**
 * Debian's vmalert: a real Prometheus-rule evaluator, running `rulesFile` every second against
 * `datasourceUrl` (a VictoriaMetrics, test/support/victoria-metrics.ts; start it with
 * `-search.latencyOffset=1s` so fresh samples count), and sending what fires to an
 * Alertmanager stand-in that records the alert names.
 */
export async function startVmalert(rulesFile: string, datasourceUrl: string): Promise<VmalertProcess> {
  const notified: string[] = [];
  const alertmanager: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        for (const a of JSON.parse(body) as { labels?: { alertname?: string } }[]) if (a.labels?.alertname) notified.push(a.labels.alertname);
      } catch {
        // not an alert list: nothing to record
      }
      res.end();
    });
  });
  const amPort = await freePort();
  await new Promise<void>((r) => alertmanager.listen(amPort, '127.0.0.1', r));
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-vmalert-'));
  const server = serverLauncher(
    `vmalert on port ${port}`,
    'vmalert',
    [`-rule=${rulesFile}`, `-datasource.url=${datasourceUrl}`, `-notifier.url=http://127.0.0.1:${amPort}`, `-httpListenAddr=127.0.0.1:${port}`, '-evaluationInterval=1s', '-datasource.queryTimeAlignment=false', '-loggerLevel=WARN'],
    () => portOpen(port),
    dataDir,
  );
  try {
    await server.restart();
  } catch (err) {
    alertmanager.close();
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    firing: async () => {
      const res = await fetch(`${url}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: { name: string; state: string }[] | null } };
      return (body.data.alerts ?? []).filter((a) => a.state === 'firing').map((a) => a.name);
    },
    notified: () => notified,
    log: server.log,
    stop: async () => {
      await server.stop();
      await new Promise<void>((r) => alertmanager.close(() => r()));
    },
  };
}
