/**
 * Watch streams: newline-delimited JSON events over a chunked response. Resumes from a resourceVersion
 * through the store's history (410 Expired once it has been trimmed or predates a restart), sends
 * BOOKMARKs when asked, and turns selector transitions into ADDED/DELETED as kube-apiserver does.
 */
import type { ServerResponse } from 'node:http';
import { gone } from './errors.js';
import { asVersion } from './resources.js';
import type { Matcher } from './selectors.js';
import type { ChangeEvent, Store, Stored } from './store.js';
import { tableRow, columnDefinitions, type IncludeObject } from './table.js';
import { apiVersionOf, type KObject, type ResourceType, type WatchEventType } from './types.js';

export interface WatchOptions {
  type: ResourceType;
  namespace?: string;
  matches: Matcher;
  resourceVersion?: string | null;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds: number;
  bookmarkIntervalMs: number;
  /** Render objects as Table rows (kubectl get -w). */
  table?: { include: IncludeObject };
}

export function serveWatch(store: Store, res: ServerResponse, opts: WatchOptions): void {
  const { type } = opts;
  const inScope = (o: KObject) => (opts.namespace === undefined || o.metadata.namespace === opts.namespace) && opts.matches(o);
  let headersSent = false;

  const send = (eventType: WatchEventType, obj: KObject | Record<string, unknown>) => {
    let objectJson: string;
    if (opts.table && (eventType === 'ADDED' || eventType === 'MODIFIED' || eventType === 'DELETED')) {
      const t = {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: (obj as KObject).metadata.resourceVersion },
        columnDefinitions: headersSent ? [] : columnDefinitions(type),
        rows: [tableRow(type, obj as KObject, opts.table.include)],
      };
      headersSent = true;
      objectJson = JSON.stringify(t);
    } else objectJson = JSON.stringify(obj);
    queue(encodedEvent(eventType, objectJson));
  };
  const queue = (line: Buffer) => {
    queued.push(line);
    if (queued.length === 1) process.nextTick(flush);
  };
  // Events of one synchronous run (a request's commit, a collection's deletes) go out in one write as soon as it
  // ends: one TLS record and one syscall for many events instead of one each. Waiting for the loop's check
  // phase (setImmediate) held them behind every request read in the same poll: at 1,000 creates/s with 100
  // watches, delivery p99 19-32 ms instead of 4-8 ms (bench/watchers.bench.ts).
  let queued: Buffer[] = [];
  const flush = () => {
    if (!queued.length || res.writableEnded) return;
    res.write(queued.length === 1 ? queued[0] : Buffer.concat(queued));
    queued = [];
  };
  const sendStored = (eventType: WatchEventType, stored: Stored) => {
    const apiVersion = apiVersionOf(type);
    if (stored.obj.apiVersion !== apiVersion) send(eventType, asVersion(type, stored.obj));
    else if (opts.table) send(eventType, stored.obj);
    else queue(eventLine(eventType, stored));
  };
  const bookmark = (revision: number, annotations?: Record<string, string>) =>
    send('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(revision), ...(annotations ? { annotations } : {}) } });

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  const rv = opts.resourceVersion;
  const fromScratch = !rv || rv === '0' || opts.sendInitialEvents;
  const onEvent = (e: ChangeEvent) => {
    const now = inScope(e.stored.obj);
    const before = e.previous ? inScope(e.previous.obj) : false;
    if (e.type === 'DELETED') {
      if (before) sendStored('DELETED', e.stored);
    } else if (now && !before && e.type === 'MODIFIED') sendStored('ADDED', e.stored);
    else if (now) sendStored(e.type, e.stored);
    else if (before) sendStored('DELETED', e.stored);
  };

  let backlog: ChangeEvent[] = [];
  if (!fromScratch) {
    const since = Number(rv);
    const changes = Number.isFinite(since) ? store.changesSince(type.storageKey, since) : undefined;
    if (!changes) {
      const err = gone(`too old resource version: ${rv} (${store.oldestResumableRevision()})`);
      send('ERROR', err.toStatus());
      flush();
      res.end();
      return;
    }
    backlog = changes;
  }
  const unsubscribe = store.subscribe(type.storageKey, onEvent);
  if (fromScratch) {
    for (const s of store.list(type.storageKey, opts.namespace)) if (opts.matches(s.obj)) sendStored('ADDED', s);
    if (opts.sendInitialEvents && opts.allowBookmarks) bookmark(store.currentRevision(), { 'k8s.io/initial-events-end': 'true' });
  } else for (const e of backlog) onEvent(e);

  const timers: NodeJS.Timeout[] = [];
  if (opts.allowBookmarks) timers.push(setInterval(() => bookmark(store.currentRevision()), opts.bookmarkIntervalMs));
  const close = () => {
    unsubscribe();
    timers.forEach(clearInterval);
    clearTimeout(timeout);
    flush();
    if (!res.writableEnded) res.end();
  };
  const timeout = setTimeout(close, opts.timeoutSeconds * 1000);
  res.on('close', close);
}

/** One line of the watch stream: the event's type and its object's JSON. */
const encodedEvent = (eventType: WatchEventType, objectJson: string) => Buffer.from(`{"type":"${eventType}","object":${objectJson}}\n`);

/**
 * A stored object's watch event, encoded once for every watch that sends it. A commit's event reaches all
 * its kind's watches one after another, so one slot holds it for all of them without keeping any object's
 * bytes alive afterwards. Encoding (and measuring) the same UTF-8 again for each of ten watches of a kind
 * showed in the control plane's profile at 1,000 creates/s (bench/watchers.bench.ts).
 */
let lastEncoded: { stored: Stored; eventType: WatchEventType; line: Buffer } | undefined;
function eventLine(eventType: WatchEventType, stored: Stored): Buffer {
  if (lastEncoded?.stored !== stored || lastEncoded.eventType !== eventType)
    lastEncoded = { stored, eventType, line: encodedEvent(eventType, stored.json) };
  return lastEncoded.line;
}
