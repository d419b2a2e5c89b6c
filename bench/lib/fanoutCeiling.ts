/**
 * The ceiling of watch fan-out on this machine: a bare Node HTTPS server that answers a create with its object
 * and writes it, as a watch event, to every watch of its kind, as the control plane does, and does nothing else:
 * no store, no SQLite, no schema, no admission, no RBAC. Lists are empty. Events of one turn of the event loop
 * share a write per watch, as in the control plane. The same clients run against it as against the control plane,
 * so what it reaches is what the TLS sockets, the kernel and the clients allow whatever the server does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateServingCert } from '@stratus/apiserver';

export interface FanoutCeiling {
  url: string;
  caCert: string;
  close(): Promise<void>;
}

export async function startFanoutCeiling(): Promise<FanoutCeiling> {
  const serving = await generateServingCert('127.0.0.1');
  const watches = new Map<string, Set<ServerResponse>>();
  const queued = new Map<ServerResponse, string[]>();
  let revision = 1;
  const flush = () => {
    for (const [res, lines] of queued) if (!res.writableEnded) res.write(lines.join(''));
    queued.clear();
  };
  const server: Server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const collection = url.pathname;
    if (req.method === 'GET' && url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const set = watches.get(collection) ?? watches.set(collection, new Set()).get(collection)!;
      set.add(res);
      res.on('close', () => set.delete(res));
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(revision) }, items: [] }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const obj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata: Record<string, unknown> };
      obj.metadata = { ...obj.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString(), resourceVersion: String(++revision) };
      const json = JSON.stringify(obj);
      const line = `{"type":"ADDED","object":${json}}\n`;
      if (!queued.size) process.nextTick(flush);
      for (const w of watches.get(collection) ?? []) (queued.get(w) ?? queued.set(w, []).get(w)!).push(line);
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(json);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caCert: serving.cert,
    close: async () => {
      for (const set of watches.values()) for (const res of set) res.end();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
