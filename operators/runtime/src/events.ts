/** Kubernetes Events about an object (what `kubectl describe` and `kubectl get events` show). */
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient, isNotFound, MERGE_PATCH, type ResourceRef } from './client.js';
import { now } from './conditions.js';
import type { Logger } from './logger.js';

/** Kubernetes' core Events. */
export const EVENTS: ResourceRef = { group: '', version: 'v1', plural: 'events', namespaced: true };

export type EventType = 'Normal' | 'Warning';

/** Events waiting in the background at most; past that the oldest are dropped, as client-go's broadcaster drops them. */
const BACKGROUND_QUEUE = 1000;
/** Objects whose events are remembered for counting repeats (the oldest are forgotten first). */
const REMEMBERED = 4096;

/** Records events; a repeat of the same reason and message on the same object bumps its count, as kubelet does. */
export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number }>();
  private readonly backlog: Array<[KubernetesObject, EventType, string, string]> = [];
  private draining?: Promise<void>;
  private dropped = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log?: Logger,
  ) {}

  async record(obj: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const key = `${meta.uid}|${type}|${reason}|${message}`;
    const at = now();
    try {
      const prior = this.seen.get(key);
      if (prior) {
        prior.count++;
        await this.client.patch(EVENTS, prior.namespace, prior.name, { count: prior.count, lastTimestamp: at }, this.component, MERGE_PATCH);
        return;
      }
      const name = `${meta.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
      await this.client.create(
        EVENTS,
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion },
          type,
          reason,
          message,
          source: { component: this.component },
          reportingComponent: this.component,
          firstTimestamp: at,
          lastTimestamp: at,
          count: 1,
        } as KubernetesObject,
        this.component,
      );
      this.seen.set(key, { name, namespace, count: 1 });
      if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    } catch (e) {
      // An event is a courtesy: failing to write one must never fail a reconcile.
      if (isNotFound(e)) this.seen.delete(key);
      this.log?.warn('event not recorded', { namespace, name: meta.name, reason, error: String(e) });
    }
  }

  /**
   * Records an event in the background, one write at a time, without the caller waiting: for the events of a
   * hot path (a placement), which are best-effort as Kubernetes' own (client-go's broadcaster writes them
   * from its own goroutine, and drops them when they pile up), so that they never slow the work they tell of.
   */
  recordInBackground(obj: KubernetesObject, type: EventType, reason: string, message: string): void {
    this.backlog.push([obj, type, reason, message]);
    if (this.backlog.length > BACKGROUND_QUEUE) {
      this.backlog.shift();
      if (this.dropped++ % 100 === 0) this.log?.warn('events dropped: more waiting than kept', { kept: BACKGROUND_QUEUE, dropped: this.dropped });
    }
    this.draining ??= this.drain();
  }

  /** Resolves once the events recorded in the background are written (or given up). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    for (let next = this.backlog.shift(); next; next = this.backlog.shift()) await this.record(...next);
    this.draining = undefined;
  }
}
