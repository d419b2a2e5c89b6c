/**
 * The Tenant reconciler. A Tenant owns a Namespace of its name: created and labelled for it, never adopted.
 * Deleting a Tenant deletes its role assignments, waits until its namespace holds no other Stratus resources,
 * then removes the namespace.
 */
import {
  addFinalizerPatch,
  patchStatus,
  hasFinalizer,
  isDeleting,
  isNotFound,
  markReady,
  markReconciling,
  markStalled,
  removeFinalizerPatch,
  type ReconcileContext,
  type Request,
  type Result,
} from '@stratus/runtime';
import { FIELD_MANAGER, NAMESPACES, ROLE_ASSIGNMENTS, TENANTS, TENANT_FINALIZER, TENANT_LABEL, openstackId, type Namespace, type RoleAssignment, type Tenant } from './resources.js';
import { stratusResourcesIn } from './stratusResources.js';
import { holdName } from './names.js';

const WAIT_FOR_CONTENTS_MS = 2000;
const WAIT_FOR_NAMESPACE_MS = 300;

export async function reconcileTenant(req: Request, ctx: ReconcileContext<Tenant>): Promise<Result | void> {
  const { client } = ctx;
  const tenant = await client.get<Tenant>(TENANTS, undefined, req.name);
  if (!tenant) return;
  if (isDeleting(tenant)) return finalizeTenant(tenant, ctx);

  const withFinalizer = addFinalizerPatch(tenant, TENANT_FINALIZER);
  if (withFinalizer) {
    await client.patch(TENANTS, undefined, req.name, withFinalizer, FIELD_MANAGER);
    return; // the write triggers the next reconcile, which carries on from here
  }
  // A project's name is unique in its domain: a second Tenant with the same display name gets no namespace.
  const nameTaken = await holdName(tenant, ctx);
  if (nameTaken) return nameTaken;

  const name = tenant.metadata.name;
  const gen = tenant.metadata.generation;
  const ns = await client.get<Namespace>(NAMESPACES, undefined, name);
  if (ns && ns.metadata.labels?.[TENANT_LABEL] !== name) {
    const message = `namespace ${name} already exists and does not belong to this tenant; delete it or choose another tenant name`;
    await patchStatus(client, TENANTS, tenant, { phase: 'Active', conditions: markStalled(tenant.status?.conditions, gen, 'NamespaceConflict', message) }, FIELD_MANAGER);
    return;
  }
  if (ns && isDeleting(ns)) {
    // Someone deleted the namespace by hand: wait for it to go, then make it anew.
    await patchStatus(client, TENANTS, tenant, { conditions: markReconciling(tenant.status?.conditions, gen, 'NamespaceTerminating', `namespace ${name} is being deleted; it will be re-created`) }, FIELD_MANAGER);
    return { requeueAfterMs: WAIT_FOR_NAMESPACE_MS };
  }
  if (!ns) {
    await client.create<Namespace>(
      NAMESPACES,
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name,
          labels: { [TENANT_LABEL]: name },
          ownerReferences: [{ apiVersion: tenant.apiVersion, kind: 'Tenant', name, uid: tenant.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
      },
      FIELD_MANAGER,
    );
    await ctx.events.record(tenant, 'Normal', 'NamespaceCreated', `Created namespace ${name}`);
  }

  const enabled = tenant.spec.enabled !== false;
  await patchStatus(client, TENANTS, tenant, {
    phase: enabled ? 'Active' : 'Disabled',
    namespace: name,
    projectId: openstackId(tenant.metadata.uid),
    conditions: markReady(tenant.status?.conditions, gen, enabled ? 'NamespaceReady' : 'Disabled', enabled ? `namespace ${name} is ready` : 'the tenant is disabled'),
  }, FIELD_MANAGER);
}

async function finalizeTenant(tenant: Tenant, ctx: ReconcileContext<Tenant>): Promise<Result | void> {
  if (!hasFinalizer(tenant, TENANT_FINALIZER)) return;
  const { client } = ctx;
  const name = tenant.metadata.name;
  const gen = tenant.metadata.generation;
  // A project's role assignments are Keystone's own data and go with it, as in Keystone; what other services
  // keep in the namespace (servers, images) is the user's to delete first.
  const grants = (await client.list<RoleAssignment>(ROLE_ASSIGNMENTS, name)).items.filter((ra) => !isDeleting(ra));
  for (const ra of grants) await client.delete(ROLE_ASSIGNMENTS, name, ra.metadata.name).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  if (grants.length) ctx.log.info('role assignments deleted with the tenant', { namespace: name, count: grants.length });
  const remaining = await stratusResourcesIn(client, name);
  if (remaining.length) {
    const shown = remaining.slice(0, 5).join(', ') + (remaining.length > 5 ? `, and ${remaining.length - 5} more` : '');
    const message = `namespace ${name} still holds ${remaining.length} Stratus resource${remaining.length === 1 ? '' : 's'}: ${shown}; delete them first`;
    if (tenant.status?.phase !== 'Terminating') await ctx.events.record(tenant, 'Warning', 'DeletionBlocked', message);
    await patchStatus(client, TENANTS, tenant, { phase: 'Terminating', conditions: markReconciling(tenant.status?.conditions, gen, 'WaitingForResources', message) }, FIELD_MANAGER);
    return { requeueAfterMs: WAIT_FOR_CONTENTS_MS };
  }
  const ns = await client.get<Namespace>(NAMESPACES, undefined, name);
  if (ns && ns.metadata.labels?.[TENANT_LABEL] === name) {
    if (!isDeleting(ns)) await client.delete(NAMESPACES, undefined, name);
    return { requeueAfterMs: WAIT_FOR_NAMESPACE_MS };
  }
  const release = removeFinalizerPatch(tenant, TENANT_FINALIZER);
  if (release) await client.patch(TENANTS, undefined, name, release, FIELD_MANAGER);
  ctx.log.info('tenant deleted with its namespace');
}

