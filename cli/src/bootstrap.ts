/**
 * What a new cloud needs once: the admin user, tenant and roles, and the catalog of every OpenStack API the
 * operators serve, at the URLs clients reach them by. `stratus up` does it on one machine; the chart's Job
 * (bootstrapMain) on a cluster.
 */
import type { KubeClient } from '@stratus/runtime';
import { bootstrapIdentity, registerCatalogService } from '@stratus/keystone';
import { OPERATORS } from './operators.js';

export interface CloudBootstrap {
  adminPassword: string;
  region?: string;
  /** Where clients reach each API, by catalog service type: identity (…/v3), image, compute (…/v2.1). */
  urls: Record<string, string>;
}

export async function bootstrapCloud(client: KubeClient, o: CloudBootstrap): Promise<void> {
  if (!o.urls.identity) throw new Error('the identity URL is needed to bootstrap the cloud');
  await bootstrapIdentity(client, { adminPassword: o.adminPassword, identityUrl: o.urls.identity, region: o.region });
  for (const op of OPERATORS) {
    if (!op.catalog) continue;
    const url = o.urls[op.catalog.type];
    if (!url) throw new Error(`no URL for the ${op.catalog.type} service (${op.catalog.service})`);
    await registerCatalogService(client, { name: op.catalog.service, type: op.catalog.type, description: op.catalog.description, url, region: o.region });
    // The same API under the older type clients may still look for (Cinder's volumev3 beside block-storage).
    for (const alias of op.catalog.aliases ?? []) await registerCatalogService(client, { name: alias.service, type: alias.type, description: op.catalog.description, url, region: o.region });
  }
}
