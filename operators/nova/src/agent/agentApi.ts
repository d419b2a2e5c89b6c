/**
 * The node agent's own small API, for the Compute API to call (as kube-apiserver calls kubelet for logs):
 * an instance's console log. Callers show a bearer token kept in a Secret that both read.
 */
import { execFile } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import * as http from 'node:http';
import { KubeApiError, SYSTEM_NAMESPACE, listen, type KubeClient, type Listening, type Logger } from '@stratus/runtime';
import type { InstanceFiles } from './instanceFiles.js';
import type { GuestStats } from '../driver/types.js';

const SECRETS = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
/** The Secret (in stratus-system) holding the token callers of node agents present. */
export const AGENT_TOKEN_SECRET = 'nova-agent-token';

/** The agent token, made the first time any agent or API asks. */
export async function agentToken(client: KubeClient, fieldManager: string): Promise<string> {
  const read = async () => {
    const s = await client.get<{ apiVersion: string; kind: string; metadata: { name: string }; data?: Record<string, string> }>(SECRETS, SYSTEM_NAMESPACE, AGENT_TOKEN_SECRET);
    return s?.data?.token ? Buffer.from(s.data.token, 'base64').toString('utf8') : undefined;
  };
  const found = await read();
  if (found) return found;
  const token = randomBytes(32).toString('base64url');
  try {
    await client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: AGENT_TOKEN_SECRET, namespace: SYSTEM_NAMESPACE }, type: 'Opaque', data: { token: Buffer.from(token).toString('base64') } } as never, fieldManager);
    return token;
  } catch (e) {
    // Another agent made it first: theirs it is.
    if (e instanceof KubeApiError && e.code === 409) return (await read())!;
    throw e;
  }
}

/**
 * The tail of a text file as Nova's get_console_output cuts it: the last `lines` pieces of the text split at
 * newlines (a log ending in a newline has an empty last piece, so it shows lines - 1 lines and that newline);
 * all of it when lines is undefined. Reads at most `maxBytes` from the end.
 */
export async function tailLines(path: string, lines: number | undefined, maxBytes = 1 << 20): Promise<string> {
  const { size } = await stat(path);
  const start = Math.max(0, size - maxBytes);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1); // drop the partial first line
    if (lines === undefined) return text;
    return lines === 0 ? '' : text.split('\n').slice(-lines).join('\n');
  } finally {
    await fh.close();
  }
}

export async function startAgentApi(opts: { host: string; port: number; token: string; files: InstanceFiles; log: Logger; stats?: (uuid: string) => Promise<GuestStats | undefined> }): Promise<Listening> {
  const expected = Buffer.from(`Bearer ${opts.token}`);
  const server = http.createServer((req, res) => {
    const answer = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname === '/healthz') return answer(200, '{"status":"ok"}');
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return answer(401, '{"message":"a valid agent token is required"}');
    // The host's uptime(1) line, which Nova's os-hypervisors uptime shows.
    if (url.pathname === '/v1/host/uptime' && req.method === 'GET') {
      execFile('uptime', [], { env: { ...process.env, LANG: 'C' }, timeout: 5000 }, (e, out) => (e ? answer(500, JSON.stringify({ message: `uptime failed: ${e.message}` })) : answer(200, out, 'text/plain; charset=utf-8')));
      return;
    }
    // A guest's usage counters, which Nova's server diagnostics show.
    const stats = /^\/v1\/instances\/([0-9a-f-]{36})\/stats$/.exec(url.pathname);
    if (stats && req.method === 'GET' && opts.stats) {
      opts
        .stats(stats[1])
        .then((s) => (s ? answer(200, JSON.stringify(s)) : answer(404, '{"message":"no such guest on this host"}')))
        .catch((e: Error) => (opts.log.warn('guest stats unreadable', { uuid: stats[1], error: e.message }), answer(500, '{"message":"the guest stats could not be read"}')));
      return;
    }
    const m = /^\/v1\/instances\/([0-9a-f-]{36})\/console$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return answer(404, '{"message":"not found"}');
    const length = url.searchParams.get('length');
    tailLines(opts.files.paths(m[1]).consoleLog, length === null ? undefined : Math.max(0, Number(length) || 0))
      .then((text) => answer(200, text, 'text/plain; charset=utf-8'))
      .catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? answer(404, '{"message":"this instance has no console log on this host"}') : (opts.log.warn('console log unreadable', { error: e.message }), answer(500, '{"message":"the console log could not be read"}'))));
  });
  return listen(server, opts.host, opts.port);
}
