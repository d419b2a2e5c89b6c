/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: one holder at a
 * time, renewed every retry period, taken over only after it has gone unrenewed for the lease duration.
 * Every write carries the resourceVersion read, so two candidates can never both win.
 */
import { KubeClient, isConflict, isNotFound, type ResourceRef } from './client.js';
import type { Logger } from './logger.js';

export const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true };

export interface LeaderElectionOptions {
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** MicroTime, the format Lease times use. */
const microTime = (d = new Date()) => d.toISOString().replace(/Z$/, '000Z');

export class LeaderElector {
  private leading = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly durationS: number;
  private readonly retryMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
    private readonly log?: Logger,
  ) {
    this.durationS = opts.leaseDurationSeconds ?? 15;
    this.retryMs = opts.retryPeriodMs ?? 2000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until elected, then keeps renewing in the background. Resolves once leading; `onLost` runs if
   * leadership is lost later (renewal failed for a whole lease duration, or another holder took over).
   */
  async run(onLost: () => void): Promise<void> {
    let lastRenew = 0;
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) break;
      await new Promise((r) => setTimeout(r, this.retryMs));
    }
    if (this.stopped) return;
    lastRenew = Date.now();
    this.leading = true;
    this.log?.info('became leader', { namespace: this.opts.namespace, name: this.opts.leaseName, identity: this.opts.identity });
    const renew = async () => {
      if (this.stopped) return;
      const ok = await this.tryAcquireOrRenew().catch(() => false);
      if (ok) lastRenew = Date.now();
      if (!ok && Date.now() - lastRenew > this.durationS * 1000) {
        this.leading = false;
        this.log?.warn('lost leadership', { namespace: this.opts.namespace, name: this.opts.leaseName, identity: this.opts.identity });
        onLost();
        return;
      }
      this.timer = setTimeout(renew, this.retryMs);
    };
    this.timer = setTimeout(renew, this.retryMs);
  }

  /** Stops campaigning; a leader hands the lease back so a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<Lease>(LEASES, this.opts.namespace, this.opts.leaseName);
      if (lease?.spec.holderIdentity === this.opts.identity) {
        lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: microTime() };
        await this.client.replace(LEASES, lease, this.opts.identity);
      }
    } catch (e) {
      this.log?.warn('lease not released', { error: String(e) });
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, leaseName, identity } = this.opts;
    const at = microTime();
    try {
      const lease = await this.client.get<Lease>(LEASES, namespace, leaseName);
      if (!lease) {
        await this.client.create(
          LEASES,
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: leaseName, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: this.durationS, acquireTime: at, renewTime: at, leaseTransitions: 0 } } as Lease,
          identity,
        );
        return true;
      }
      const s = lease.spec;
      const held = !!s.holderIdentity && s.holderIdentity !== identity;
      const expires = Date.parse(s.renewTime ?? '0') + (s.leaseDurationSeconds ?? this.durationS) * 1000;
      if (held && Date.now() < expires) return false;
      const takingOver = s.holderIdentity !== identity;
      lease.spec = {
        holderIdentity: identity,
        leaseDurationSeconds: this.durationS,
        acquireTime: takingOver ? at : s.acquireTime,
        renewTime: at,
        leaseTransitions: (s.leaseTransitions ?? 0) + (takingOver && s.holderIdentity ? 1 : 0),
      };
      await this.client.replace(LEASES, lease, identity);
      return true;
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return false;
      throw e;
    }
  }
}
