/** Identity resources as the Identity API v3 shows them. */
import { displayNameOf } from '@stratus/runtime';
import { DEFAULT_DOMAIN_ID, DEFAULT_REGION } from '../kinds.js';
import { openstackId, type CatalogEndpoint, type CatalogService, type Role, type Tenant, type User } from '../resources.js';
import type { IdentityDirectory } from './directory.js';

export const DEFAULT_DOMAIN = { id: DEFAULT_DOMAIN_ID, name: 'Default' };

export const domainView = (base: string) => ({
  id: DEFAULT_DOMAIN.id,
  name: DEFAULT_DOMAIN.name,
  description: 'The default domain',
  enabled: true,
  tags: [],
  options: {},
  links: { self: `${base}/domains/default` },
});

export function projectView(t: Tenant, base: string) {
  const id = openstackId(t.metadata.uid);
  return {
    ...(t.spec.extra ?? {}),
    id,
    name: displayNameOf(t),
    domain_id: DEFAULT_DOMAIN.id,
    description: t.spec.description ?? '',
    enabled: t.spec.enabled !== false,
    parent_id: DEFAULT_DOMAIN.id,
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
    domain_id: DEFAULT_DOMAIN.id,
    enabled: u.spec.enabled !== false,
    ...(u.spec.email ? { email: u.spec.email } : {}),
    ...(u.spec.description ? { description: u.spec.description } : {}),
    ...(defaultProject ? { default_project_id: openstackId(defaultProject.metadata.uid) } : {}),
    password_expires_at: null,
    options: {},
    links: { self: `${base}/users/${id}` },
  };
}

export function roleView(r: Role, base: string) {
  const id = openstackId(r.metadata.uid);
  return { id, name: displayNameOf(r), domain_id: null, description: r.spec.description ?? null, options: {}, links: { self: `${base}/roles/${id}` } };
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

/** The service catalog as a token carries it: each enabled service with its enabled endpoints. */
export function catalogView(dir: IdentityDirectory) {
  const endpoints = dir.endpoints.all().filter((e) => e.spec.enabled !== false);
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
