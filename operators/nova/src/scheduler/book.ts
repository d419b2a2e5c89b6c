/**
 * The scheduler's copy of the Hypervisors: the informer's objects, overlaid with what this process itself
 * wrote (kube-scheduler's "assume" cache), so the next decision sees a claim at once instead of after the
 * watch event, and a claim on a copy that is truly stale is refused by the API server (409) and retried.
 */
import { isAtLeast } from '@stratus/runtime';
import type { Hypervisor } from '../resources.js';

export class HypervisorBook {
  private readonly written = new Map<string, Hypervisor>();

  constructor(private readonly informed: () => readonly Hypervisor[]) {}

  /** Every hypervisor, each as the newer of the informer's copy and our last write. */
  all(): Hypervisor[] {
    return this.informed().map((hv) => {
      const mine = this.written.get(hv.metadata.name);
      if (!mine) return hv;
      if (isAtLeast(hv.metadata.resourceVersion, mine.metadata.resourceVersion)) {
        this.written.delete(hv.metadata.name);
        return hv;
      }
      return mine;
    });
  }

  get(name: string): Hypervisor | undefined {
    return this.all().find((h) => h.metadata.name === name);
  }

  /** Remembers an object this process wrote. */
  wrote(hv: Hypervisor): void {
    this.written.set(hv.metadata.name, hv);
  }

  /** Drops our copy: after a conflict the server's (the informer's, soon) is the truth. */
  forget(name: string): void {
    this.written.delete(name);
  }
}
