/**
 * What an admin set on Cinder's services (os-services enable, disable, freeze, thaw): kept in a ConfigMap of
 * Stratus's namespace, one key per service (`<binary>.<host>`), so that the API shows it, the scheduler reads it
 * (a disabled or frozen volume service takes no new volume) and it outlives restarts; `kubectl get configmap
 * cinder-services` shows it too. A service with no key is enabled and not frozen.
 */
import { CONFIGMAPS } from '@stratus/keystone';
import { releaseNamespace, type KubeClient } from '@stratus/runtime';

export const SERVICE_STATE_CONFIGMAP = 'cinder-services';
/** Cinder's host name for this service; a backend's is `stratus@<backend>`, a pool's `stratus@<backend>#<pool>`. */
export const SERVICE_HOST = 'stratus';
/** The volume service of a backend, by Cinder's host name. */
export const volumeServiceKey = (backend: string) => serviceKey('cinder-volume', `${SERVICE_HOST}@${backend}`);
/** The backup service (this process). */
export const BACKUP_SERVICE_KEY = `cinder-backup.${SERVICE_HOST}`;
const FIELD_MANAGER = 'cinder-services';

export interface ServiceState {
  disabled: boolean;
  /** Why, as the admin said (disable-log-reason), or null. */
  reason: string | null;
  frozen: boolean;
}

export const ENABLED: ServiceState = { disabled: false, reason: null, frozen: false };

/** The ConfigMap key of a service (a ConfigMap key allows letters, digits, '-', '_' and '.'). Pure. */
export const serviceKey = (binary: string, host: string) => `${binary}.${host}`.replace(/[^A-Za-z0-9._-]/g, '_');

/** Every service's state, by key, from the ConfigMap's data (a value that is not a state is ignored). Pure. */
export function serviceStates(data: Record<string, string> | undefined): Map<string, ServiceState> {
  const out = new Map<string, ServiceState>();
  for (const [k, v] of Object.entries(data ?? {})) {
    try {
      const s = JSON.parse(v) as Partial<ServiceState>;
      out.set(k, { disabled: s.disabled === true, reason: typeof s.reason === 'string' ? s.reason : null, frozen: s.frozen === true });
    } catch {
      /* not one of ours */
    }
  }
  return out;
}

/** Why a volume service takes no new volume (Cinder schedules to enabled, unfrozen services only), or undefined. Pure. */
export function unschedulable(s: ServiceState | undefined): string | undefined {
  if (s?.frozen) return 'frozen';
  if (s?.disabled) return `disabled${s.reason ? ` (${s.reason})` : ''}`;
  return undefined;
}

/** Cinder's refusal of a change to a volume or snapshot on a frozen backend (its assert_not_frozen). */
export const FROZEN_BACKEND = 'Modification operations are not allowed on frozen storage backends.';

/** Whether the volume service of `backend` is frozen: Cinder then refuses deleting its volumes and snapshots, and snapshotting its volumes. */
export async function backendFrozen(client: KubeClient, backend: string | undefined): Promise<boolean> {
  return !!backend && (await readServiceStates(client)).get(volumeServiceKey(backend))?.frozen === true;
}

export async function readServiceStates(client: KubeClient): Promise<Map<string, ServiceState>> {
  const cm = await client.get<{ metadata: { name: string }; data?: Record<string, string> }>(CONFIGMAPS, releaseNamespace(), SERVICE_STATE_CONFIGMAP);
  return serviceStates(cm?.data);
}

/** Writes one service's state: server-side apply of its own key, so admins changing two services at once both stay. */
export async function writeServiceState(client: KubeClient, key: string, state: ServiceState): Promise<void> {
  await client.apply(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SERVICE_STATE_CONFIGMAP, namespace: releaseNamespace() }, data: { [key]: JSON.stringify(state) } } as never, `${FIELD_MANAGER}-${key}`.slice(0, 128));
}
