import type { KV, KvEntry, NatsConnection } from 'nats';
import type { SharedToken, TokenStore } from '../auth/index.js';
import type { Logger } from '../observability/index.js';

/** The key-value bucket that holds the fleet's API tokens (hashes only), one entry per token id. */
export const TOKEN_BUCKET = 'pp_tokens';

/** A token's state that matters between processes: a token is created once and revoked at most once. */
const stateOf = (t: SharedToken) => `${t.hash}:${t.revokedAt ?? ''}`;

/**
 * Shares API tokens between the processes of a NATS fleet (workers and API nodes), so a token
 * made with `plantpulse token create` against any one's data dir works on all of them, and a
 * revocation anywhere ends it everywhere within seconds (TokenWatch then closes its
 * connections). Each process keeps its `auth.sqlite` (the CLI writes it, requests read it);
 * this copies rows both ways through the bucket `pp_tokens`:
 * - every `everyMs`, local tokens that are new or newly revoked are written to the bucket with
 *   compare-and-set, after taking what the bucket already says (a revocation is never undone);
 * - the bucket is watched, and every entry is adopted locally.
 * Only hashes travel, as stored; no process ever had the plaintext of a token made elsewhere.
 */
export class TokenSync {
  private readonly sent = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private watching: Promise<void> | null = null;
  private stopWatch: (() => void) | null = null;
  private running = false;

  private constructor(
    private readonly kv: KV,
    private readonly store: TokenStore,
    private readonly log: Logger,
  ) {}

  static async start(nc: NatsConnection, store: TokenStore, opts: { everyMs: number; replicas: number }, log: Logger): Promise<TokenSync> {
    const kv = await nc.jetstream().views.kv(TOKEN_BUCKET, { history: 1, replicas: opts.replicas });
    const sync = new TokenSync(kv, store, log);
    await sync.push();
    const updates = await kv.watch();
    sync.stopWatch = () => updates.stop();
    sync.watching = (async () => {
      for await (const e of updates) sync.take(e);
    })().catch((err: Error) => log.error({ err: err.message }, 'token bucket watch stopped'));
    sync.timer = setInterval(() => void sync.push(), opts.everyMs);
    sync.timer.unref();
    return sync;
  }

  private take(e: KvEntry): void {
    if (e.operation !== 'PUT') return;
    try {
      const t = e.json<SharedToken>();
      if (this.store.adopt(t)) this.log.info({ tokenId: t.id, revoked: t.revokedAt !== null }, 'token taken from the fleet');
      this.sent.set(t.id, stateOf(t));
    } catch (err) {
      this.log.error({ err: (err as Error).message, key: e.key }, 'shared token not taken');
    }
  }

  /** One round: write what is new here (never rejects; a failed write is tried again next round). */
  async push(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const local of this.store.shared()) {
        if (this.sent.get(local.id) === stateOf(local)) continue;
        const entry = await this.kv.get(local.id);
        const remote = entry?.operation === 'PUT' ? entry.json<SharedToken>() : null;
        if (remote) this.store.adopt(remote); // a revocation made elsewhere first
        const merged: SharedToken = { ...local, revokedAt: local.revokedAt ?? remote?.revokedAt ?? null };
        if (remote && stateOf(remote) === stateOf(merged)) {
          this.sent.set(local.id, stateOf(merged));
          continue;
        }
        if (entry) await this.kv.update(local.id, JSON.stringify(merged), entry.revision);
        else await this.kv.create(local.id, JSON.stringify(merged));
        this.sent.set(local.id, stateOf(merged));
      }
    } catch (err) {
      // Another process wrote the same token at the same moment, or NATS is away: next round.
      this.log.debug({ err: (err as Error).message }, 'tokens not shared yet');
    } finally {
      this.running = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopWatch?.();
    await this.watching;
  }
}
