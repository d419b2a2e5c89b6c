/**
 * The Networking API's validating admission webhook (admission.k8s.io/v1): a Network, Subnet, Port, Router,
 * FloatingIP, SecurityGroup or SubnetPool a project member writes with kubectl is refused at once where Neutron
 * would refuse it, with its words: over the project's quota (403, as Kubernetes' ResourceQuota answers, with
 * Neutron's message), or what its policy keeps for admins (shared and external networks, shared subnet pools,
 * ports on another project's or an external network, a router gateway's SNAT and its chosen addresses).
 */
import { admissionProjectId, type AdmissionDecider, type AdmissionRequest, type Refusal } from '@stratus/runtime';
import { sameFixedIPs, type FloatingIP, type Network, type Port, type Router, type SecurityGroup, type Subnet, type SubnetPool } from '../resources.js';
import type { NetApi } from './context.js';
import { quotaExceeded } from './quotaRoutes.js';

export const NETWORKING_ADMISSION_PATH = '/v2.0/os-admission/networking';

type Written = Network | Subnet | Port | Router | FloatingIP | SecurityGroup | SubnetPool;

/** The quota each kind counts against, as Neutron names it. */
const QUOTA_OF: Record<string, string> = { Network: 'network', Subnet: 'subnet', Port: 'port', Router: 'router', FloatingIP: 'floatingip', SecurityGroup: 'security_group' };

/** The webhook, by the path it is served at on the admission listener. */
export const admissionWebhooks = (api: NetApi): Record<string, AdmissionDecider<Written>> => ({ [NETWORKING_ADMISSION_PATH]: (r) => networkingRefusal(api, r) });

const forbidden = (message: string): Refusal => ({ code: 403, message });

/** Why Neutron would refuse this write, or nothing (pure but for the caches it reads). */
export function networkingRefusal(api: NetApi, r: AdmissionRequest<Written>): Refusal | undefined {
  const o = r.object!;
  const namespace = r.namespace ?? o.metadata?.namespace ?? '';
  const projectId = admissionProjectId(r.userInfo) ?? api.dir.projectIdOf(namespace);
  const old = r.operation === 'UPDATE' ? r.oldObject : undefined;
  const policy = policyRefusal(api, o, old, namespace, projectId);
  if (policy) return policy;
  const rules = (g: Written | undefined) => (g?.kind === 'SecurityGroup' ? ((g as SecurityGroup).spec.rules?.length ?? 0) : 0);
  const asked: Array<[string, number]> = [...(r.operation === 'CREATE' && QUOTA_OF[o.kind!] ? [[QUOTA_OF[o.kind!], 1] as [string, number]] : []), ['security_group_rule', rules(o) - rules(old)]];
  for (const [resource, count] of asked) {
    const over = quotaExceeded(api, namespace, resource, count);
    if (over) return forbidden(`exceeded quota: ${over}`);
  }
  return undefined;
}

function policyRefusal(api: NetApi, o: Written, old: Written | undefined, namespace: string, projectId: string): Refusal | undefined {
  if (o.kind === 'Network') {
    const n = o as Network;
    const was = old as Network | undefined;
    if (!was && (n.spec.external || n.spec.shared)) return forbidden(`(rule:create_network:${n.spec.external ? 'router:external' : 'shared'}) is disallowed by policy`);
    if (was && (!!n.spec.external !== !!was.spec.external || !!n.spec.shared !== !!was.spec.shared)) return forbidden('(rule:update_network:shared) is disallowed by policy');
  }
  if (o.kind === 'SubnetPool' && (o as SubnetPool).spec.shared && !(old as SubnetPool | undefined)?.spec.shared) return forbidden('(rule:create_subnetpool:shared) is disallowed by policy');
  if (o.kind === 'Router') {
    const attribute = adminOnlyGatewayChange((o as Router).spec.externalGateway, (old as Router | undefined)?.spec.externalGateway);
    if (attribute) return forbidden(`(rule:${old ? 'update' : 'create'}_router:external_gateway_info:${attribute}) is disallowed by policy`);
  }
  if (o.kind === 'Port' && !old) {
    const p = o as Port;
    const netNamespace = p.spec.networkNamespace ?? namespace;
    const net = api.dir.networks.get(p.spec.network, netNamespace);
    // Ports on an external network are Neutron's own (router gateways, floating IPs); on another project's
    // network, only where it is shared.
    if (net && netNamespace !== namespace && (net.spec.external || !net.spec.shared)) return forbidden(`Tenant ${projectId} not allowed to create port on this network`);
  }
  return undefined;
}

type Gateway = Router['spec']['externalGateway'];

/**
 * The gateway attribute, in Neutron's words, that a write sets and Neutron's policy keeps for admins: SNAT
 * turned off (or back on), or addresses chosen on the external network. Dropping the gateway, or leaving
 * what an admin chose as it was, asks nothing.
 */
export function adminOnlyGatewayChange(gateway: Gateway, old: Gateway): 'enable_snat' | 'external_fixed_ips' | undefined {
  if (!gateway) return undefined;
  const snat = (g: Gateway) => g?.enableSNAT !== false;
  if (old ? snat(gateway) !== snat(old) : !snat(gateway)) return 'enable_snat';
  const fixed = gateway.fixedIPs ?? [];
  if (fixed.length > 0 && !sameFixedIPs(fixed, old?.fixedIPs ?? [])) return 'external_fixed_ips';
  return undefined;
}
