/**
 * Alert latency to a regulator's webhook: the harness registers a subscription (admin token,
 * `POST /api/v1/subscriptions`) pointing at a real HTTP receiver in this process
 * (test/support/webhook-receiver.ts), and times a fault sample's timestamp → the signed `POST`
 * of its `alert.opened` arriving. That path is the alert pipeline, the outbox (SQLite, fsynced
 * before the pipeline goes on), the delivery worker and an HTTP request; the receiver answers 200
 * at once. Each request's signatures are checked as docs/webhooks.md tells receivers to: the
 * Standard Webhooks headers by the `standardwebhooks` library on arrival (the receiver answers 400
 * when they fail), the deprecated `X-PlantPulse-Signature` (HMAC-SHA256 of `timestamp.body`) with
 * node:crypto alone; a wrong one is counted, not trusted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WebhookReceiver } from '../../test/support/webhook-receiver.js';

const PATH = '/bench-alerts';

interface HookBody {
  type?: string;
  alert?: { site: string; line: string; device: string; rule?: string };
}

export class WebhookWatcher {
  private readonly injected = new Map<string, number>();
  private readonly lat: number[] = [];
  private seen = 0;
  private bad = 0;
  /** Verified requests by event and rule (`opened gas-lel-warning`): what else the plant raised meanwhile. */
  readonly tally: Record<string, number> = {};
  subscriptionId = '';

  private constructor(
    private readonly receiver: WebhookReceiver,
    private readonly secret: string,
  ) {}

  /** Start the receiver and subscribe it to the safety alerts' `opened` transitions of every site. */
  static async subscribe(platformUrl: string, adminToken: string): Promise<WebhookWatcher> {
    const receiver = await WebhookReceiver.start();
    const w = new WebhookWatcher(receiver, randomBytes(24).toString('base64url'));
    const res = await fetch(`${platformUrl}/api/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url(PATH), name: 'bench: alert latency', categories: ['safety'], events: ['opened'], secret: w.secret }),
    });
    if (res.status !== 201) {
      await receiver.close();
      throw new Error(`POST /api/v1/subscriptions answered ${res.status}: ${await res.text()}`);
    }
    const created = (await res.json()) as { id: string; signingSecret: string };
    w.subscriptionId = created.id;
    receiver.standardSecrets.set(PATH, created.signingSecret);
    return w;
  }

  private verified(timestamp: string, body: string, signature: string): boolean {
    const expected = Buffer.from(`v1=${createHmac('sha256', this.secret).update(`${timestamp}.${body}`).digest('hex')}`);
    const got = Buffer.from(signature);
    return Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300 && expected.length === got.length && timingSafeEqual(expected, got);
  }

  /** Match the requests that arrived since the last look against the faults waiting for one. */
  private collect(): void {
    const reqs = this.receiver.requests;
    for (; this.seen < reqs.length; this.seen++) {
      const r = reqs[this.seen]!;
      if (r.path !== PATH) continue;
      if (r.standardError !== null || !this.verified(r.timestamp, r.body, r.signature)) {
        this.bad++;
        continue;
      }
      const msg = JSON.parse(r.body) as HookBody;
      const kind = `${msg.type} ${msg.alert?.rule ?? '?'}`;
      this.tally[kind] = (this.tally[kind] ?? 0) + 1;
      if (msg.type !== 'opened' || !msg.alert) continue;
      const key = `${msg.alert.site}/${msg.alert.line}/${msg.alert.device}`;
      const ts = this.injected.get(key);
      if (ts === undefined) continue;
      this.injected.delete(key); // the first alert of the fault counts (warning and critical both open)
      this.lat.push(r.arrivedAt - ts);
    }
  }

  expect(deviceKey: string, faultTs: number): void {
    this.injected.set(deviceKey, faultTs);
  }

  get latencies(): number[] {
    this.collect();
    return this.lat;
  }

  /** Faults whose webhook has not arrived (yet). */
  get missing(): number {
    this.collect();
    return this.injected.size;
  }

  /** Requests whose signature did not verify with the subscription's secret. */
  get badSignatures(): number {
    this.collect();
    return this.bad;
  }

  get received(): number {
    return this.receiver.requests.length;
  }

  async close(): Promise<void> {
    await this.receiver.close();
  }
}
