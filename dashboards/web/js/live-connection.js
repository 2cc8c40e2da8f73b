import { token } from './settings.js';

/**
 * The dashboard's one WebSocket to the live hub (`/api/v1/live`). It subscribes to everything it
 * may see (the overview shows the whole plant; the hub throttles each device to 2 messages a
 * second) and reconnects with backoff. Refusals by the hub's auth (4401/4403) stop the retries
 * until the token changes.
 */
export class LiveConnection {
  constructor(onMessage, onStatus) {
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.socket = null;
    this.retryMs = 1000;
    this.timer = null;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
    }
    const url = new URL('/api/v1/live', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const bearer = token();
    if (bearer) url.searchParams.set('token', bearer);
    this.onStatus('connecting');
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 1000;
      socket.send(JSON.stringify({ type: 'subscribe' }));
      this.onStatus('live');
    };
    socket.onmessage = (ev) => {
      try {
        this.onMessage(JSON.parse(ev.data));
      } catch (err) {
        console.error('live message not handled', err);
      }
    };
    socket.onclose = (ev) => {
      if (ev.code === 4401 || ev.code === 4403) return this.onStatus('unauthorized');
      this.onStatus('reconnecting');
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    };
  }
}
