/** The operators `stratus up` runs, each as its own process, as the chart runs each as a Deployment (or a DaemonSet). */
import { join } from 'node:path';
import { BLOCK_STORAGE_ADMISSION_PATH } from '@stratus/cinder';
import { IMAGE_ADMISSION_PATH } from '@stratus/glance';
import { NETWORKING_ADMISSION_PATH, ovnLayout } from '@stratus/neutron';
import { ADMISSION_PATH } from '@stratus/nova';
import { CEPH_CSI_SECRET, cephCsiOf, cloudCephOf } from './ceph.js';

export interface OperatorProcess {
  name: string;
  /** The entry point, relative to the repository root. */
  main: string;
  /** The OpenStack API it serves, behind the gateway at `prefix`, on the port given in `portEnv`. */
  api?: { prefix: string; portEnv: string; defaultPort: number };
  /** Node options for the process. */
  nodeArgs?: string[];
  /** Its API server takes client connections handed over by the front door (runtime's apiServer does). */
  takesConnections?: boolean;
  /** The catalog entry `stratus up` registers for the API (Keystone's own comes with its bootstrap); `path` follows the prefix. */
  catalog?: { service: string; type: string; description: string; path?: string; aliases?: Array<{ service: string; type: string }> };
  /**
   * The validating admission webhook its API answers on ADMISSION_PORT: the ValidatingWebhookConfiguration
   * `stratus-<config>` names webhook `name` at `path` for CREATE and UPDATE of `resources` in `group`. The chart
   * ships the same (its e2e checks against this list).
   */
  admission?: { config: string; name: string; path: string; group: string; resources: string[] };
  /** Run only when `stratus up` is asked for this (--kubevirt). */
  only?: 'kubevirt';
  /** Settings of its own: `port` gives the fixed port, or a free one when `stratus up` runs on free ports. */
  env?(o: { dataDir: string; port(fixed: number): Promise<number>; ceph: boolean }): Promise<Record<string, string>>;
}

export const OPERATORS: OperatorProcess[] = [
  { name: 'keystone', main: 'operators/keystone/dist/src/main.js', api: { prefix: '/identity', portEnv: 'KEYSTONE_API_PORT', defaultPort: 5000 }, takesConnections: true },
  {
    name: 'glance',
    main: 'operators/glance/dist/src/main.js',
    api: { prefix: '/image', portEnv: 'GLANCE_API_PORT', defaultPort: 9292 },
    takesConnections: true,
    // Image data streams through in 64 KiB chunks that die young: a 4 MiB young generation (Node's default
    // is 16) keeps Glance's resident memory ~20 MiB lower with no measured loss of throughput.
    nodeArgs: ['--max-semi-space-size=4'],
    // glibc raises its mmap threshold to the largest block freed (up to 32 MiB), after which 8 MiB part buffers
    // and 64 KiB chunks come from the heap, whose freed pages stay resident. A fixed 256 KiB threshold keeps
    // Glance 18-23 MiB lower at rest and at peak (133 vs 153 MiB, 185 vs 205; measured alternately, 1 GiB images).
    env: async () => ({ MALLOC_MMAP_THRESHOLD_: String(256 * 1024) }),
    catalog: { service: 'glance', type: 'image', description: 'Glance Image Service' },
    admission: { config: 'image', name: 'images.image.stratus.io', path: `/v2${IMAGE_ADMISSION_PATH}`, group: 'image.stratus.io', resources: ['images'] },
  },
  {
    name: 'nova',
    main: 'operators/nova/dist/src/main.js',
    api: { prefix: '/compute', portEnv: 'NOVA_API_PORT', defaultPort: 8774 },
    takesConnections: true,
    // Nova's endpoint is versioned, as clients expect of the compute service.
    catalog: { service: 'nova', type: 'compute', description: 'Nova Compute Service', path: '/v2.1' },
    admission: { config: 'compute', name: 'instances.compute.stratus.io', path: `/v2.1${ADMISSION_PATH}`, group: 'compute.stratus.io', resources: ['instances'] },
  },
  {
    // Networking (Neutron with its ML2/OVN driver): Networks, Subnets and Ports written into OVN's northbound database.
    name: 'neutron',
    main: 'operators/neutron/dist/src/main.js',
    api: { prefix: '/networking', portEnv: 'NEUTRON_API_PORT', defaultPort: 9696 },
    takesConnections: true,
    catalog: { service: 'neutron', type: 'network', description: 'Neutron Networking Service' },
    admission: {
      config: 'networking',
      name: 'networking.network.stratus.io',
      path: NETWORKING_ADMISSION_PATH,
      group: 'network.stratus.io',
      resources: ['networks', 'subnets', 'ports', 'routers', 'floatingips', 'securitygroups', 'subnetpools'],
    },
    env: async ({ dataDir }) => {
      const ovn = ovnLayout(dataDir);
      return { OVN_NB_REMOTE: ovn.nbRemote, OVN_SB_REMOTE: ovn.sbRemote };
    },
  },
  {
    // Block storage (Cinder): volumes in a file pool every node sees at the same path (with --ceph, as RBD images in
    // the local Ceph's pool instead: the CINDER_RBD_* settings come with the cluster), backups in the S3 store.
    name: 'cinder',
    main: 'operators/cinder/dist/src/main.js',
    api: { prefix: '/volume', portEnv: 'CINDER_API_PORT', defaultPort: 8776 },
    takesConnections: true,
    catalog: { service: 'cinder', type: 'block-storage', description: 'Cinder Block Storage Service', path: '/v3', aliases: [{ service: 'cinderv3', type: 'volumev3' }] },
    admission: { config: 'blockstorage', name: 'volumes.blockstorage.stratus.io', path: BLOCK_STORAGE_ADMISSION_PATH, group: 'blockstorage.stratus.io', resources: ['volumes', 'volumesnapshots', 'volumebackups', 'volumegroups'] },
    env: async ({ dataDir, ceph }): Promise<Record<string, string>> => (ceph ? { CINDER_WORK_DIR: join(dataDir, 'cinder', 'work') } : { CINDER_POOL_DIR: join(dataDir, 'cinder', 'pool') }),
  },
  {
    // The browser's way to a server's display (Nova's nova-novncproxy): console tokens checked, then VNC over a WebSocket.
    name: 'nova-novncproxy',
    main: 'operators/nova/dist/src/console/main.js',
    api: { prefix: '/console', portEnv: 'NOVNCPROXY_PORT', defaultPort: 6080 },
  },
  {
    // The dashboard (Horizon): the single page on live resource status, signed in through Keystone.
    name: 'horizon',
    main: 'operators/horizon/dist/src/server/main.js',
    api: { prefix: '/dashboard', portEnv: 'HORIZON_PORT', defaultPort: 8080 },
  },
  {
    // This machine's compute node: its guests run under the system libvirt (qemu:///system), their disks in the state folder.
    name: 'nova-compute',
    main: 'operators/nova/dist/src/agent/main.js',
    env: async ({ dataDir, port }) => {
      const ovn = ovnLayout(dataDir);
      // Guests' taps go into the node's switch, in the node's network namespace.
      return { NOVA_STATE_DIR: join(dataDir, 'nova'), NOVA_AGENT_PORT: String(await port(8790)), OVS_REMOTE: ovn.ovsRemote, OVS_NETNS: ovn.netns };
    },
  },
  {
    // KubeVirt's part where KubeVirt cannot run (no container runtime): a STAND-IN for virt-api, virt-controller,
    // virt-handler and CDI's importer, on KubeVirt's own CRDs (vendor/kubevirt/). No guest boots through it.
    name: 'kubevirt-simulator',
    main: 'operators/nova/dist/src/kubevirt/simulator/main.js',
    only: 'kubevirt',
    env: async ({ port }) => ({ VIRT_API_PORT: String(await port(8186)) }),
  },
  {
    // The kubevirt compute driver: the cluster as the Hypervisor "kubevirt" in availability zone "kubevirt".
    name: 'nova-compute-kubevirt',
    main: 'operators/nova/dist/src/kubevirt/main.js',
    only: 'kubevirt',
    // With --ceph, Cinder's RBD volumes are hot-plugged through ceph-csi (its Secret made by stratus up).
    env: async ({ dataDir, ceph }) => {
      const cloudCeph = ceph ? cloudCephOf(dataDir) : undefined;
      const csi: Record<string, string> = cloudCeph ? { KUBEVIRT_CEPH_CSI_CLUSTER_ID: cephCsiOf(cloudCeph).clusterID, KUBEVIRT_CEPH_CSI_SECRET: `${CEPH_CSI_SECRET.namespace}/${CEPH_CSI_SECRET.name}` } : {};
      return { KUBEVIRT_HYPERVISOR: 'kubevirt', KUBEVIRT_AVAILABILITY_ZONE: 'kubevirt', ...csi };
    },
  },
];
