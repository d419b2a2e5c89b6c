/**
 * Live changes for open pages: one informer per kind (a watch, never a poll), each change told to the pages
 * whose user may see the object, as server-sent events naming what changed; the page then reads that one
 * object through the OpenStack API, under its user's token and the API's own policy.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { selfHealingInformer, type KubeClient, type Logger, type SelfHealingInformer } from '@stratus/runtime';
import { LIVE_KINDS, type LiveKind, type Viewer } from './kinds.js';

export interface LiveChange {
  kind: LiveKind;
  id: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The object's resourceVersion: a page may skip a change it has seen. */
  rv: string;
  /** Milliseconds since the epoch when the dashboard saw the change (for the page's own latency figure). */
  at: number;
}

export interface LiveSubscriber {
  viewer: Viewer;
  send(change: LiveChange): void;
}

type Obj = KubernetesObject & { spec?: Record<string, any> };

export class LiveHub {
  private readonly informers = new Map<LiveKind, SelfHealingInformer<Obj>>();
  private readonly subscribers = new Set<LiveSubscriber>();

  constructor(kc: KubeConfig, client: KubeClient, private readonly log: Logger) {
    for (const [kind, def] of Object.entries(LIVE_KINDS) as Array<[LiveKind, (typeof LIVE_KINDS)[LiveKind]]>) {
      const watched = selfHealingInformer<Obj>(kc, client, def.ref, { log });
      const tell = (type: LiveChange['type']) => (o: Obj) => this.publish(kind, type, o);
      watched.informer.on('add', tell('ADDED'));
      watched.informer.on('update', tell('MODIFIED'));
      watched.informer.on('delete', tell('DELETED'));
      this.informers.set(kind, watched);
    }
  }

  /** Starts every kind's watch; a kind whose CRD is not installed keeps retrying without holding up the others. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.entries()].map(([kind, w]) => w.start().catch((e: Error) => this.log.warn('live kind not watched yet', { kind, error: e.message }))));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((w) => w.stop()));
  }

  subscribe(s: LiveSubscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  /** The object of this kind with this API ID, if the viewer may see it. */
  find(kind: LiveKind, id: string, viewer: Viewer): Obj | undefined {
    const def = LIVE_KINDS[kind];
    const o = this.informers.get(kind)?.informer.list().find((x) => def.idOf(x) === id);
    return o && def.visible(o, viewer) ? o : undefined;
  }

  private publish(kind: LiveKind, type: LiveChange['type'], o: Obj): void {
    const def = LIVE_KINDS[kind];
    const change: LiveChange = { kind, id: def.idOf(o), type, rv: o.metadata?.resourceVersion ?? '', at: Date.now() };
    for (const s of this.subscribers) if (def.visible(o, s.viewer)) s.send(change);
  }
}
