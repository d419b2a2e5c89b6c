/** Identity resources as the Identity API v3 shows them. */
import { displayNameOf } from '@stratus/runtime';
import { DEFAULT_DOMAIN_ID, DEFAULT_REGION } from '../kinds.js';
import { openstackId, type CatalogEndpoint, type CatalogService, type Domain, type EndpointGroup, type Role, type Tenant, type User } from '../resources.js';
import type { IdentityDirectory } from './directory.js';

export const DEFAULT_DOMAIN = { id: DEFAULT_DOMAIN_ID, name: 'Default' };

/** A domain as the Identity API knows it: the built-in Default domain, or a Domain resource (`ref` names it). */
export interface DomainInfo {
  ref: string;
  id: string;
  name: string;
  enabled: boolean;
  description: string;
}

const BUILT_IN: DomainInfo = { ref: DEFAULT_DOMAIN_ID, ...DEFAULT_DOMAIN, enabled: true, description: 'The default domain' };
const infoOf = (d: Domain): DomainInfo => ({ ref: d.metadata.name, id: openstackId(d.metadata.uid), name: displayNameOf(d), enabled: d.spec.enabled !== false, description: d.spec.description ?? '' });

/** Every domain there is: the Default domain first, then the Domain resources not being deleted. */
export const allDomains = (dir: IdentityDirectory): DomainInfo[] => [BUILT_IN, ...dir.domains.all().filter((d) => !d.metadata.deletionTimestamp).map(infoOf)];

/** The domain a Tenant's or User's spec.domain names (absent: the Default domain). */
export function domainInfo(dir: IdentityDirectory, ref: string | undefined): DomainInfo | undefined {
  if (!ref || ref === DEFAULT_DOMAIN_ID) return BUILT_IN;
  const d = dir.domains.named(ref);
  return d && !d.metadata.deletionTimestamp ? infoOf(d) : undefined;
}

/** The domain with this OpenStack ID or name, as a request names it. */
export const findDomain = (dir: IdentityDirectory, by: { id?: string; name?: string }) =>
  allDomains(dir).find((d) => (by.id !== undefined ? d.id === by.id : d.name === by.name));

/** `{id, name}` of the domain an object is in, as tokens and assignment lists show it. */
export function domainRef(dir: IdentityDirectory, ref: string | undefined) {
  const d = domainInfo(dir, ref);
  return d ? { id: d.id, name: d.name } : { id: ref ?? DEFAULT_DOMAIN_ID, name: ref ?? DEFAULT_DOMAIN.name };
}

export const domainView = (d: DomainInfo, base: string) => ({
  id: d.id,
  name: d.name,
  description: d.description,
  enabled: d.enabled,
  tags: [],
  options: {},
  links: { self: `${base}/domains/${d.id}` },
});

/** A domain as the projects API shows it: Keystone keeps every domain as a project acting as one (is_domain), in no domain and under no parent. */
export const domainProjectView = (d: DomainInfo, base: string) => ({
  id: d.id,
  name: d.name,
  domain_id: null,
  description: d.description,
  enabled: d.enabled,
  parent_id: null,
  is_domain: true,
  tags: [],
  options: {},
  links: { self: `${base}/projects/${d.id}` },
});

export function projectView(t: Tenant, base: string, dir: IdentityDirectory) {
  const id = openstackId(t.metadata.uid);
  const domainId = domainRef(dir, t.spec.domain).id;
  const parent = t.spec.parent ? dir.tenants.named(t.spec.parent) : undefined;
  return {
    ...(t.spec.extra ?? {}),
    id,
    name: displayNameOf(t),
    domain_id: domainId,
    description: t.spec.description ?? '',
    enabled: t.spec.enabled !== false,
    parent_id: parent ? openstackId(parent.metadata.uid) : domainId,
    is_domain: false,
    tags: t.spec.tags ?? [],
    options: {},
    links: { self: `${base}/projects/${id}` },
  };
}

export function userView(u: User, dir: IdentityDirectory, base: string) {
  const id = openstackId(u.metadata.uid);
  const defaultProject = u.spec.defaultTenant ? dir.tenants.named(u.spec.defaultTenant) : undefined;
  return {
    ...(u.spec.extra ?? {}),
    id,
    name: displayNameOf(u),
    domain_id: domainRef(dir, u.spec.domain).id,
    enabled: u.spec.enabled !== false,
    ...(u.spec.email ? { email: u.spec.email } : {}),
    ...(u.spec.description ? { description: u.spec.description } : {}),
    ...(defaultProject ? { default_project_id: openstackId(defaultProject.metadata.uid) } : {}),
    password_expires_at: null,
    options: {},
    links: { self: `${base}/users/${id}` },
  };
}

export function roleView(r: Role, base: string, dir?: IdentityDirectory) {
  const id = openstackId(r.metadata.uid);
  const domainId = r.spec.domain ? (dir ? domainRef(dir, r.spec.domain).id : r.spec.domain) : null;
  return { id, name: displayNameOf(r), domain_id: domainId, description: r.spec.description ?? null, options: {}, links: { self: `${base}/roles/${id}` } };
}

export const roleRef = (r: Role) => ({ id: openstackId(r.metadata.uid), name: displayNameOf(r) });

export function serviceView(s: CatalogService, base: string) {
  const id = openstackId(s.metadata.uid);
  return { id, type: s.spec.type, name: displayNameOf(s), description: s.spec.description ?? '', enabled: s.spec.enabled !== false, links: { self: `${base}/services/${id}` } };
}

/** An endpoint's region; the schema defaults it, so only an object stored before the default lacks one. */
export const regionOf = (e: CatalogEndpoint) => e.spec.region ?? DEFAULT_REGION;

export function endpointView(e: CatalogEndpoint, dir: IdentityDirectory, base: string) {
  const id = openstackId(e.metadata.uid);
  const svc = dir.services.named(e.spec.service);
  const region = regionOf(e);
  return {
    id,
    interface: e.spec.interface,
    region,
    region_id: region,
    url: e.spec.url,
    service_id: svc ? openstackId(svc.metadata.uid) : '',
    enabled: e.spec.enabled !== false,
    links: { self: `${base}/endpoints/${id}` },
  };
}

/** Whether an endpoint is one an endpoint group's filters match (every filter given). */
export function inEndpointGroup(e: CatalogEndpoint, g: EndpointGroup): boolean {
  const f = g.spec.filters ?? {};
  return (!f.interface || e.spec.interface === f.interface) && (!f.service || e.spec.service === f.service) && (!f.region || regionOf(e) === f.region);
}

/**
 * The service catalog as a token carries it: each enabled service with its enabled endpoints; for a project
 * associated with endpoint groups, only the endpoints they match (Keystone's OS-EP-FILTER).
 */
export function catalogView(dir: IdentityDirectory, project?: Tenant) {
  const groups = project ? dir.endpointGroups.all().filter((g) => !g.metadata.deletionTimestamp && (g.spec.projects ?? []).includes(project.metadata.name)) : [];
  const endpoints = dir.endpoints.all().filter((e) => e.spec.enabled !== false && (!groups.length || groups.some((g) => inEndpointGroup(e, g))));
  return dir.services
    .all()
    .filter((s) => s.spec.enabled !== false)
    .map((s) => ({
      id: openstackId(s.metadata.uid),
      type: s.spec.type,
      name: displayNameOf(s),
      endpoints: endpoints
        .filter((e) => e.spec.service === s.metadata.name)
        .map((e) => ({ id: openstackId(e.metadata.uid), interface: e.spec.interface, region: regionOf(e), region_id: regionOf(e), url: e.spec.url })),
    }));
}

/** Keystone's timestamp form: microseconds and a Z. */
export const keystoneTime = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
