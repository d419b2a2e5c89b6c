/** The node agent's settings, from its environment (the chart's DaemonSet and `stratus up` set them). */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { VirtType } from '../driver/libvirt/domainXml.js';

export interface AgentConfig {
  /** The Hypervisor this agent registers and serves: the node's name. */
  host: string;
  /** Image cache and instance files live here. */
  stateDir: string;
  libvirtUri: string;
  virtType: VirtType | 'auto';
  availabilityZone?: string;
  /** The agent's own API (console logs) listens here; its URL goes into the Hypervisor's status. */
  listenHost: string;
  listenPort: number;
  /** The URL others reach the agent's API at, when not http://listenHost:listenPort (say, listening on 0.0.0.0). */
  advertiseUrl?: string;
  /** Overrides of what the host reports, and what it keeps for itself (Nova's reserved_host_memory_mb). */
  capacity: { vcpus?: number; ramMiB?: number; diskGiB?: number };
  reservedRamMiB: number;
  /** How long a guest gets to power off when asked before it is forced (Nova's shutdown_timeout). */
  shutdownTimeoutSeconds: number;
  /** How often the agent says it is alive (Nova's report_interval). */
  heartbeatSeconds: number;
  /** Where guests' VNC displays listen (NOVA_VNC_LISTEN, Nova's [vnc] server_listen): 127.0.0.1 unless the console proxy runs on another machine. */
  vncListen: string;
  /** The node's Ceph keyring (NOVA_CEPH_KEYRING): the keys of the cephx users RBD volumes name (Nova's rbd_user's). */
  cephKeyring?: string;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

export function agentConfigFromEnv(env: NodeJS.ProcessEnv): AgentConfig {
  const virtType = env.NOVA_VIRT_TYPE ?? 'auto';
  if (!['auto', 'kvm', 'qemu'].includes(virtType)) throw new Error(`NOVA_VIRT_TYPE must be auto, kvm or qemu, not ${virtType}`);
  return {
    host: (env.NOVA_HOST ?? hostname()).toLowerCase(),
    stateDir: resolve(env.NOVA_STATE_DIR ?? '/var/lib/stratus/nova'),
    libvirtUri: env.LIBVIRT_URI ?? 'qemu:///system',
    virtType: virtType as AgentConfig['virtType'],
    availabilityZone: env.NOVA_AVAILABILITY_ZONE,
    listenHost: env.NOVA_AGENT_HOST ?? '127.0.0.1',
    listenPort: num(env.NOVA_AGENT_PORT) ?? 8790,
    advertiseUrl: env.NOVA_AGENT_URL,
    capacity: { vcpus: num(env.NOVA_VCPUS), ramMiB: num(env.NOVA_RAM_MIB), diskGiB: num(env.NOVA_DISK_GIB) },
    reservedRamMiB: num(env.NOVA_RESERVED_RAM_MIB) ?? 512,
    shutdownTimeoutSeconds: num(env.NOVA_SHUTDOWN_TIMEOUT) ?? 60,
    heartbeatSeconds: num(env.NOVA_HEARTBEAT_SECONDS) ?? 10,
    vncListen: env.NOVA_VNC_LISTEN || '127.0.0.1',
    ...(env.NOVA_CEPH_KEYRING ? { cephKeyring: resolve(env.NOVA_CEPH_KEYRING) } : {}),
  };
}
