/**
 * The desired state the OVN mechanism compares NB with, from informer caches of every networking kind (one
 * watch each, not a list per comparison), and a way for a reconciler to wait until its own write is in them.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { isAtLeast, selfHealingInformer, waitUntil, type KubeClient, type Logger, type SelfHealingInformer } from '@stratus/runtime';
import { FLOATING_IPS, NETWORKS, PORTS, ROUTERS, SECURITY_GROUPS, SUBNETS, type FloatingIP, type Network, type Port, type Router, type SecurityGroup, type Subnet } from '../resources.js';
import type { NetworkingState } from './mechanism.js';

/** How long a sync waits for a reconciler's write to reach the caches before comparing with what they have. */
const SEEN_TIMEOUT_MS = 10_000;

export class NetworkingCache {
  private readonly byKind: Record<string, SelfHealingInformer<KubernetesObject>>;

  constructor(kc: KubeConfig, client: KubeClient, log: Logger) {
    const watch = <T extends KubernetesObject>(ref: typeof NETWORKS) => selfHealingInformer<T>(kc, client, ref, { log }) as unknown as SelfHealingInformer<KubernetesObject>;
    this.byKind = {
      Network: watch<Network>(NETWORKS),
      Subnet: watch<Subnet>(SUBNETS),
      Port: watch<Port>(PORTS),
      SecurityGroup: watch<SecurityGroup>(SECURITY_GROUPS),
      Router: watch<Router>(ROUTERS),
      FloatingIP: watch<FloatingIP>(FLOATING_IPS),
    };
  }

  start = () => Promise.all(Object.values(this.byKind).map((i) => i.start())).then(() => undefined);
  stop = () => Promise.all(Object.values(this.byKind).map((i) => i.stop())).then(() => undefined);

  state(): NetworkingState {
    const list = <T>(kind: string) => this.byKind[kind].informer.list() as unknown as T[];
    return { networks: list('Network'), subnets: list('Subnet'), ports: list('Port'), securityGroups: list('SecurityGroup'), routers: list('Router'), floatingIPs: list('FloatingIP') };
  }

  /** Waits (bounded) until each written object is in its kind's cache at that version or later. */
  async seen(written: KubernetesObject[]): Promise<void> {
    await waitUntil(
      () =>
        written.every((o) => {
          const informer = this.byKind[o.kind ?? ''];
          if (!informer) return true;
          const cached = informer.informer.get(o.metadata!.name!, o.metadata?.namespace);
          // A deleted object that has left the cache is as seen as it gets.
          if (!cached) return !!o.metadata?.deletionTimestamp;
          return isAtLeast(cached.metadata?.resourceVersion, o.metadata?.resourceVersion);
        }),
      SEEN_TIMEOUT_MS,
    );
  }
}
