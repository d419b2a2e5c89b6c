/**
 * Connections handed over by `stratus up`'s front door. Every OpenStack API is reached on one port; rather
 * than proxy each request through another process (a hop that cost token validation more than half its rate,
 * and image downloads a third of theirs, on two cores), the front door reads a new connection's first request
 * line and gives the socket itself to the process of the API that serves that path, over the supervisor's IPC
 * channel, with the bytes it read. That process serves the connection from then on as if it had accepted it.
 * A later request on the same connection for another API is passed straight to that API's own port; what no
 * API serves goes to the gateway, which proxies it.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { hasBody } from './router.js';

/** The IPC message that comes with a handed-over socket. */
export const HANDOFF_MESSAGE = 'stratus:connection';
/**
 * What a process tells its parent once it takes connections: until then a socket sent to it would be lost
 * (a message with no listener yet is dropped, and its socket with it), so the front door sends it none.
 */
export const HANDOFF_READY = 'stratus:takes-connections';
/** What a process answers once it has a handed-over socket: the front door closes its own copy then. */
export const HANDOFF_TAKEN = 'stratus:connection-taken';

export interface HandoffMessage {
  type: typeof HANDOFF_MESSAGE;
  /** What the front door read before choosing, base64: the connection's first bytes. */
  head: string;
  /** Which handover this is, for the answer. */
  id: number;
}

/** The route whose prefix (a whole path segment or more) holds `url`'s path, the longest if several do. */
export function routeFor<R extends { prefix: string }>(url: string | undefined, routes: readonly R[]): R | undefined {
  const path = (url ?? '/').split('?')[0];
  let best: R | undefined;
  for (const r of routes) if ((path === r.prefix || path.startsWith(`${r.prefix}/`)) && r.prefix.length > (best?.prefix.length ?? -1)) best = r;
  return best;
}

const handed = new WeakSet<Socket>();

/** Whether this request came on a connection the front door handed over (not one accepted on the API's own port). */
export const cameThroughFrontDoor = (req: http.IncomingMessage) => handed.has(req.socket);

let receiving = false;

/**
 * Serves the connections the supervisor hands to this process on `server` (once per process: its API server),
 * when it runs under `stratus up` with an IPC channel. Returns whether it does.
 */
export function acceptHandedConnections(server: http.Server): boolean {
  if (receiving || !process.send || process.env.STRATUS_HANDOFF !== '1') return false;
  receiving = true;
  process.on('message', (m: HandoffMessage, socket?: Socket) => {
    if (m?.type !== HANDOFF_MESSAGE || !socket) return;
    handed.add(socket);
    socket.setNoDelay(true); // as http.Server sets on the sockets it accepts itself
    server.emit('connection', socket);
    socket.emit('data', Buffer.from(m.head, 'base64'));
    socket.resume();
    process.send?.({ type: HANDOFF_TAKEN, id: m.id });
  });
  process.channel?.unref(); // the channel alone keeps no process alive
  process.send({ type: HANDOFF_READY });
  return true;
}

/**
 * Passes one request through to `target` (a base URL) unchanged, path, headers and body, and its answer back.
 * A kept-alive connection the far end closed under a bodiless request is retried once on a fresh one.
 */
export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, target: URL, agent: http.Agent, unreachable: (err: Error) => void): void {
  const bodiless = !hasBody(req);
  const forward = (retried: boolean) => {
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!retried && bodiless && upstream.reusedSocket && !res.headersSent && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return forward(true);
      if (!res.headersSent) unreachable(err);
      else res.destroy(err);
    });
    if (bodiless) upstream.end();
    else req.pipe(upstream);
  };
  forward(false);
}
