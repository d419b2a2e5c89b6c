/**
 * The scheduler's copy of the Hypervisors: the informer's objects, overlaid with what this process itself
 * wrote (kube-scheduler's "assume" cache), so the next decision sees a claim at once instead of after the
 * watch event, and a claim on a copy that is truly stale is refused by the API server (409) and retried.
 * Claims decided but not yet written (see ClaimWriter) are overlaid on top, so decisions never wait for a write.
 */
import { isAtLeast } from '@stratus/runtime';
import type { Hypervisor } from '../resources.js';
import type { Resources } from './types.js';

export class HypervisorBook {
  private readonly written = new Map<string, Hypervisor>();
  /** Per host, claims (null: releases) decided and not yet in the server's ledger. */
  private readonly assumed = new Map<string, Map<string, Resources | null>>();

  constructor(private readonly informed: () => readonly Hypervisor[]) {}

  /** Every hypervisor, each as the newer of the informer's copy and our last write, with the claims assumed. */
  all(): Hypervisor[] {
    return this.informed().map((hv) => withAssumed(this.stored(hv), this.assumed.get(hv.metadata.name)));
  }

  get(name: string): Hypervisor | undefined {
    return this.all().find((h) => h.metadata.name === name);
  }

  /** The host as the server last had it to our knowledge, without the claims assumed: what a ledger write builds on. */
  server(name: string): Hypervisor | undefined {
    const hv = this.informed().find((h) => h.metadata.name === name);
    return hv && this.stored(hv);
  }

  /** Remembers an object this process wrote. */
  wrote(hv: Hypervisor): void {
    this.written.set(hv.metadata.name, hv);
  }

  /** Drops our copy: after a conflict the server's (the informer's, soon) is the truth. */
  forget(name: string): void {
    this.written.delete(name);
  }

  /** Counts a claim (or, with null, a release) as made, before the ledger holds it. */
  assume(host: string, key: string, resources: Resources | null): void {
    let claims = this.assumed.get(host);
    if (!claims) this.assumed.set(host, (claims = new Map()));
    claims.set(key, resources);
  }

  /** Stops counting an assumed claim: written (the stored copy has it now) or given up. */
  settle(host: string, key: string): void {
    const claims = this.assumed.get(host);
    claims?.delete(key);
    if (claims?.size === 0) this.assumed.delete(host);
  }

  private stored(hv: Hypervisor): Hypervisor {
    const mine = this.written.get(hv.metadata.name);
    if (!mine) return hv;
    if (isAtLeast(hv.metadata.resourceVersion, mine.metadata.resourceVersion)) {
      this.written.delete(hv.metadata.name);
      return hv;
    }
    return mine;
  }
}

function withAssumed(hv: Hypervisor, claims: ReadonlyMap<string, Resources | null> | undefined): Hypervisor {
  if (!claims?.size) return hv;
  const allocations = { ...(hv.status?.allocations ?? {}) };
  for (const [key, resources] of claims) {
    if (resources) allocations[key] = resources;
    else delete allocations[key];
  }
  return { ...hv, status: { ...hv.status, allocations } } as Hypervisor;
}
