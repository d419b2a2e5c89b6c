/**
 * `stratus up`'s one port for every OpenStack API. A proxy there cost each request a hop through another
 * process: on two cores, token validation through it ran at 0.43 of Keystone's own port and a 1 GiB image
 * download at 0.66 of direct S3 (measured). So the front door does not proxy: it reads a new connection's
 * first request line, and hands the socket itself, with the bytes it read, to the process of the API that
 * serves that path (runtime's handoff.ts), which serves the connection from then on. What no API process
 * takes (the dashboard, the console, unknown paths, a line it cannot read) goes to the gateway process the
 * same way, which proxies as before.
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { HANDOFF_MESSAGE, routeFor, type HandoffMessage, type Logger } from '@stratus/runtime';

export interface FrontDoorRoute {
  /** A path prefix such as `/identity`. */
  prefix: string;
  /** The supervisor's name for the process that serves it. */
  process: string;
}

export interface FrontDoor {
  url: string;
  close(): Promise<void>;
}

/** How long a process may take to accept a handed socket. */
const HANDOFF_TIMEOUT_MS = 10_000;

/** The most the front door reads while waiting for a request line (a real one is far shorter). */
const MAX_HEAD = 8192;

/** The path of an HTTP request line (`GET /identity/v3 HTTP/1.1`), or undefined. */
export function requestPath(head: Buffer): string | undefined {
  const eol = head.indexOf('\r\n');
  if (eol < 0) return undefined;
  const parts = head.toString('latin1', 0, eol).split(' ');
  return parts.length === 3 && parts[1].startsWith('/') ? parts[1] : undefined;
}

/** Which process serves `path`: the route with the longest matching prefix, else the fallback. */
export function processFor(path: string | undefined, routes: readonly FrontDoorRoute[], fallback: string): string {
  return (path && routeFor(path, routes)?.process) || fallback;
}

export async function startFrontDoor(opts: {
  host: string;
  port: number;
  routes: FrontDoorRoute[];
  /** The process that takes everything else (the gateway). */
  fallback: string;
  /** Sends the socket to a process (message: all but the `id` the sender adds); `done` once it has taken it, or an error when it could not (the process is down). */
  handOff(process: string, message: Omit<HandoffMessage, 'id'>, socket: net.Socket, done: (err?: Error) => void): void;
  log: Logger;
}): Promise<FrontDoor> {
  const open = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (Buffer.concat(chunks).indexOf('\r\n') < 0 && size < MAX_HEAD) return;
      socket.off('data', onData);
      socket.pause();
      // No more reads into this process: what the kernel holds goes to the new owner; what was read goes with it.
      (socket as unknown as { _handle?: { readStop?: () => void } })._handle?.readStop?.();
      for (let more = socket.read() as Buffer | null; more; more = socket.read() as Buffer | null) chunks.push(more);
      const head = Buffer.concat(chunks);
      const message = { type: HANDOFF_MESSAGE, head: head.toString('base64') } as const;
      const target = processFor(requestPath(head), opts.routes, opts.fallback);
      const give = (to: string, then?: () => void) => {
        // A process that dies while the socket is on its way may never answer the send: the client is not left hanging.
        const stuck = setTimeout(() => {
          opts.log.warn('a connection was not taken in time', { path: requestPath(head), process: to });
          socket.destroy();
        }, HANDOFF_TIMEOUT_MS);
        opts.handOff(to, message, socket, (err) => {
          clearTimeout(stuck);
          // Taken: the process has its own copy now; closing this one leaves the connection open.
          if (!err) return void socket.destroy();
          if (socket.destroyed) return;
          if (then) return then();
          opts.log.warn('no process to take a connection', { path: requestPath(head), process: to, error: err.message });
          socket.destroy();
        });
      };
      give(target, target === opts.fallback ? undefined : () => give(opts.fallback));
    };
    socket.on('data', onData);
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    async close() {
      for (const s of open) s.destroy();
      // Not waiting for server.close's callback: the server counts the sockets it handed over until their
      // processes report them closed, which processes already stopped never do.
      server.close();
    },
  };
}
