/**
 * The Networking API's read side: informer caches of every Network, Subnet, Port and SecurityGroup (all
 * tenants), indexed by OpenStack ID, and of the Tenants (project IDs). Answers come from memory; writes go to
 * the Kubernetes API.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { IndexedCache, selfHealingInformer, type KubeClient, type Logger, type SelfHealingInformer } from '@stratus/runtime';
import { TENANTS, type Tenant } from '@stratus/keystone';
import { FLOATING_IPS, NETWORKS, PORTS, ROUTERS, SECURITY_GROUPS, SUBNETS, SUBNET_POOLS, idOf, type SubnetPool, type FloatingIP, type Network, type Port, type Router, type SecurityGroup, type Subnet } from '../resources.js';

export class NetworkDirectory {
  readonly networks: IndexedCache<Network>;
  readonly subnets: IndexedCache<Subnet>;
  readonly ports: IndexedCache<Port>;
  readonly groups: IndexedCache<SecurityGroup>;
  readonly routers: IndexedCache<Router>;
  readonly floatingIPs: IndexedCache<FloatingIP>;
  readonly pools: IndexedCache<SubnetPool>;
  private readonly tenants: SelfHealingInformer<Tenant>;

  constructor(kc: KubeConfig, client: KubeClient, log: Logger) {
    this.networks = new IndexedCache<Network>(kc, client, NETWORKS, log, { idOf });
    this.subnets = new IndexedCache<Subnet>(kc, client, SUBNETS, log, { idOf });
    this.ports = new IndexedCache<Port>(kc, client, PORTS, log, { idOf });
    this.groups = new IndexedCache<SecurityGroup>(kc, client, SECURITY_GROUPS, log, { idOf });
    this.routers = new IndexedCache<Router>(kc, client, ROUTERS, log, { idOf });
    this.floatingIPs = new IndexedCache<FloatingIP>(kc, client, FLOATING_IPS, log, { idOf });
    this.pools = new IndexedCache<SubnetPool>(kc, client, SUBNET_POOLS, log, { idOf });
    this.tenants = selfHealingInformer<Tenant>(kc, client, TENANTS, { log });
  }

  start = () => Promise.all([this.networks.start(), this.subnets.start(), this.ports.start(), this.groups.start(), this.routers.start(), this.floatingIPs.start(), this.pools.start(), this.tenants.start()]).then(() => undefined);
  stop = () => Promise.all([this.networks.stop(), this.subnets.stop(), this.ports.stop(), this.groups.stop(), this.routers.stop(), this.floatingIPs.stop(), this.pools.stop(), this.tenants.stop()]).then(() => undefined);

  tenant(namespace: string): Tenant | undefined {
    return this.tenants.informer.get(namespace);
  }

  allTenants(): readonly Tenant[] {
    return this.tenants.informer.list();
  }

  tenantByProjectId(id: string): Tenant | undefined {
    // The project ID is the UID without dashes, known before the Tenant's status says it.
    return this.tenants.informer.list().find((t) => t.metadata.uid?.replace(/-/g, '') === id);
  }

  projectIdOf(namespace: string | undefined): string {
    const t = namespace ? this.tenants.informer.get(namespace) : undefined;
    return t?.status?.projectId ?? t?.metadata.uid?.replace(/-/g, '') ?? '';
  }

  subnetsOf(n: Network): Subnet[] {
    return this.subnets.list(n.metadata.namespace).filter((s) => s.spec.network === n.metadata.name);
  }

  networkOfFloatingIP(f: FloatingIP): Network | undefined {
    return this.networks.get(f.spec.network, f.spec.networkNamespace ?? f.metadata.namespace);
  }

  networkOfPort(p: Port): Network | undefined {
    return this.networks.get(p.spec.network, p.spec.networkNamespace ?? p.metadata.namespace);
  }

  networkOfSubnet(s: Subnet): Network | undefined {
    return this.networks.get(s.spec.network, s.metadata.namespace);
  }
}
