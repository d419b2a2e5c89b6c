/**
 * GET /os-migrations: Nova's migration records. A resize is the only migration here (on the same host, as
 * Nova's allow_resize_to_same_host), and each is the resize action a user asked for, kept as an Event on the
 * Instance: its status follows what came after (confirmed, reverted), or the instance as it is now
 * (migrating while it resizes, finished while it waits for confirmation). Admins only.
 */
import { requireAdmin, type ComputeApiContext, type ComputeRouter } from './context.js';
import { novaTime, presentState } from './views.js';
import { EVENTS, integerIdOf } from '../resources.js';
import { ACTION_REASON, INSTANCE_LABEL, PROJECT, USER, type ActionEvent } from './instanceActions.js';


/** What became of a resize, from the actions after it and the server's status word now (undefined: gone). */
export function resizeStatus(later: readonly string[], serverStatus: string | undefined): string {
  const ending = later.find((a) => a === 'confirmResize' || a === 'revertResize' || a === 'resize');
  if (ending === 'confirmResize') return 'confirmed';
  if (ending === 'revertResize') return 'reverted';
  if (ending === 'resize' || !serverStatus) return 'finished';
  if (serverStatus === 'VERIFY_RESIZE') return 'finished';
  if (serverStatus === 'RESIZE') return 'migrating';
  if (serverStatus === 'ERROR') return 'error';
  return 'confirmed';
}

export function migrationRoutes(router: ComputeRouter, api: ComputeApiContext) {
  router.on('GET', '/os-migrations', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-migrations:index');
    const q = req.query;
    const events = (await api.client.list<ActionEvent & { metadata: { uid?: string } }>(EVENTS, undefined, INSTANCE_LABEL)).items.filter((e) => (e as { reason?: string }).reason === ACTION_REASON && e.action);
    const byInstance = new Map<string, typeof events>();
    for (const e of events) {
      const id = e.metadata.labels![INSTANCE_LABEL];
      byInstance.set(id, [...(byInstance.get(id) ?? []), e]);
    }
    const v = req.auth.version;
    const migrations: Array<Record<string, unknown> & { instance_uuid: string; status: string; source_compute: string | null; created_at: string | null }> = [];
    for (const [instanceId, list] of byInstance) {
      list.sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)));
      const inst = api.dir.instances.byId(instanceId);
      const host = inst?.status?.host ?? null;
      list.forEach((e, i) => {
        if (e.action !== 'resize') return;
        const later = list.slice(i + 1).map((x) => x.action!);
        const end = list.slice(i + 1).find((x) => x.action === 'confirmResize' || x.action === 'revertResize');
        migrations.push({
          id: integerIdOf(e.metadata.uid ?? e.metadata.name),
          status: resizeStatus(later, inst && presentState(inst).status),
          instance_uuid: instanceId,
          source_node: host,
          source_compute: host,
          dest_node: host,
          dest_compute: host,
          dest_host: null,
          old_instance_type_id: null,
          new_instance_type_id: null,
          created_at: novaTime(e.firstTimestamp),
          updated_at: novaTime(end?.firstTimestamp),
          ...(v.atLeast('2.23') ? { migration_type: 'resize' } : {}),
          ...(v.atLeast('2.59') ? { uuid: e.metadata.uid } : {}),
          ...(v.atLeast('2.80') ? { user_id: e.metadata.annotations?.[USER] ?? null, project_id: e.metadata.annotations?.[PROJECT] ?? null } : {}),
        });
      });
    }
    const filtered = migrations.filter(
      (m) =>
        (!q.get('instance_uuid') || m.instance_uuid === q.get('instance_uuid')) &&
        (!q.get('status') || m.status === q.get('status')) &&
        (!q.get('migration_type') || q.get('migration_type') === 'resize') &&
        (!q.get('host') || m.source_compute === q.get('host')) &&
        (!q.get('source_compute') || m.source_compute === q.get('source_compute')),
    );
    filtered.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    return { status: 200, body: { migrations: filtered } };
  });
}
