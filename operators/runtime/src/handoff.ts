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
import type { TLSSocket } from 'node:tls';
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

/**
 * An answer whose bytes another process under the same supervisor writes: the connection's socket goes to it
 * over the IPC channel with the answer's head, and that process writes the head and the body and closes the
 * connection. Glance's image downloads use it under `stratus up`: the embedded S3 server sends the object
 * straight to the client, where a stream through Glance cost a second copy of every byte on two cores.
 */
export const RESPONSE_MESSAGE = 'stratus:response';

export interface ResponseMessage<W = unknown> {
  type: typeof RESPONSE_MESSAGE;
  /** The supervisor's name for the process that writes the answer. */
  to: string;
  /** The status line and headers, ending in the blank line (latin1). */
  head: string;
  /** What to write, in the taker's terms. */
  what: W;
}

/** The body of an ApiResponse that `to` writes (see RESPONSE_MESSAGE). */
export class HandedResponse<W = unknown> {
  constructor(
    readonly to: string,
    readonly what: W,
  ) {}
}

/** Which processes take answers from this one (STRATUS_RESPONSE_TAKERS, set by `stratus up`). */
const responseTakers = () => (process.env.STRATUS_RESPONSE_TAKERS ?? '').split(',').filter(Boolean);

/**
 * Whether `to` can write the answer to `req`: this process runs under a supervisor that passes answers to it,
 * and the connection is plain TCP (a TLS session's state cannot leave this process).
 */
export function canHandOverResponse(req: http.IncomingMessage, to: string): boolean {
  return !!process.send && process.connected && responseTakers().includes(to) && !(req.socket as TLSSocket).encrypted;
}

/** An HTTP/1.1 answer's head: status line, headers, blank line; pure. */
export function responseHead(status: number, headers: Record<string, string | number>): string {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Unknown'}`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(`${name}${value}`)) throw new Error(`header ${name} holds a line break`);
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Gives the connection of `res` to the process its body names, which writes the whole answer; the connection
 * closes after it (`Connection: close`: what the client sends next is not this process's to read). The
 * request must have been read to its end.
 */
export function handOverResponse(res: http.ServerResponse, status: number, headers: Record<string, string>, body: HandedResponse, failed: (err: Error) => void): void {
  const socket = res.socket!;
  // Sent without keepOpen: Node takes the handle off this socket at once and closes this process's copy once
  // the parent has its own. What is left here is an empty socket object, destroyed so the server lets go of it.
  try {
    const head = responseHead(status, { ...headers, Date: new Date().toUTCString(), Connection: 'close' });
    const message: ResponseMessage = { type: RESPONSE_MESSAGE, to: body.to, head, what: body.what };
    process.send!(message, socket, {}, (err) => err && failed(err));
  } catch (e) {
    failed(e as Error); // a head that cannot be written, or the channel closed meanwhile: the connection ends unanswered
  } finally {
    socket.destroy();
  }
}

/**
 * The other end of handOverResponse: writes, in this process, the answers handed to it over its IPC channel
 * (the supervisor passes them on by name). Returns whether it takes any (it runs with an IPC channel).
 */
export function takeHandedResponses<W>(write: (socket: Socket, head: string, what: W) => Promise<void>, failed: (err: Error, what: W) => void): boolean {
  if (!process.send) return false;
  process.on('message', (m: ResponseMessage<W>, socket?: Socket) => {
    if (m?.type !== RESPONSE_MESSAGE || !socket) return;
    write(socket, m.head, m.what).catch((e: Error) => failed(e, m.what));
  });
  process.channel?.unref(); // the channel alone keeps no process alive
  return true;
}
