import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { RawData } from 'ws';
import { allowAll, isRefusal, presentedToken, type LiveAuthorizer } from './authorize.js';
import type { LiveHub } from './live-hub.js';

export const LIVE_PATH = '/api/v1/live';

/** Frames a client may send while the authorize seam is still deciding; more are ignored. */
const MAX_EARLY_FRAMES = 16;

/**
 * `GET /api/v1/live` (WebSocket upgrade): hands authorized sockets to the hub. `ws` enforces the
 * frame size limit itself (maxPayload: close 1009). See authorize.ts for the auth seam.
 */
export function registerLiveRoute(app: FastifyInstance, hub: LiveHub, authorize: LiveAuthorizer = allowAll): void {
  app.register(fastifyWebsocket, {
    options: { maxPayload: hub.options.maxMessageBytes },
    // A client's protocol faults (oversized or malformed frames: `ws` closes with 1009/1002 itself)
    // and resets are the client's business, not a server error worth an error log line.
    errorHandler(error, socket, request) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code.startsWith('WS_ERR_') || code === 'ECONNRESET' || code === 'EPIPE') request.log.debug({ err: error.message, code }, 'live client socket error');
      else request.log.error({ err: error }, 'live connection failed');
      socket.terminate();
    },
    // On shutdown, clients hear 1001 "going away" (the plugin's default closes without a code).
    preClose(done) {
      hub.close();
      this.websocketServer.close(() => done());
    },
  });
  app.register(async (scope) => {
    scope.get(LIVE_PATH, { websocket: true }, async (socket, request) => {
      // Listen at once: frames sent while authorize runs would otherwise be lost.
      const early: [RawData, boolean][] = [];
      const hold = (data: RawData, isBinary: boolean) => {
        if (early.length < MAX_EARLY_FRAMES) early.push([data, isBinary]);
      };
      socket.on('message', hold);
      let access;
      try {
        access = await authorize(request, presentedToken(request));
      } catch (err) {
        request.log.error({ err }, 'live authorize failed');
        access = { refuse: 4401 as const, reason: 'authorization failed' };
      }
      socket.off('message', hold);
      if (socket.readyState !== socket.OPEN) return; // the client left while we were deciding
      if (isRefusal(access)) {
        hub.refused(access.refuse === 4401 ? 'unauthorized' : 'forbidden');
        socket.send(JSON.stringify({ type: 'error', code: access.refuse === 4401 ? 'unauthorized' : 'forbidden', message: access.reason }));
        socket.close(access.refuse, closeReason(access.reason)); // the full reason went in the JSON above
        return;
      }
      const { tokenId, ...granted } = access;
      const client = hub.connect(socket, granted, tokenId);
      if (client) for (const [data, isBinary] of early) client.receive(data, isBinary);
    });
  });
}

/** A WebSocket close reason holds at most 123 bytes of UTF-8: cut on a character boundary. */
export function closeReason(text: string): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > 123) break;
    out += ch;
  }
  return out;
}
