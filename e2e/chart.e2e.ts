/**
 * The Helm chart as an operator uses it, with the real helm (hack/helm.sh) and kubectl: it lints, its values
 * schema refuses bad values with the reason, what it renders is what the processes read (the node agent's
 * DaemonSet checked through the agent's own configuration parser), and it installs, upgrades and uninstalls
 * against the embedded control plane (which stores the workloads but runs no pods: it has no kubelet).
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { agentConfigFromEnv, kubevirtConfigFromEnv } from '@stratus/nova';
import { storeConfigFromEnv } from '@stratus/glance';
import { OPERATORS } from '@stratus/cli/operators';
import { TestCluster } from './lib/cluster.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHART = join(ROOT, 'charts/stratus');
const VALUES = ['--set', 's3.endpoint=http://s3.example:9000,s3.accessKeyId=key,s3.secretAccessKey=secret'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the Helm chart', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  const helm = (args: string[], kubeconfig?: string): Promise<Run> =>
    new Promise((resolve) => {
      execFile(join(ROOT, 'hack/helm.sh'), args, { env: { ...process.env, ...(kubeconfig ? { KUBECONFIG: kubeconfig, HOME: cluster.dataDir } : {}) }, maxBuffer: 16 << 20 }, (e, stdout, stderr) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const render = async (...extra: string[]) => {
    const r = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean) as any[];
  };

  before(async () => (cluster = await new TestCluster().start()));
  after(() => cluster?.stop());

  it('lints, and its values schema refuses bad values with the reason', async () => {
    const lint = await helm(['lint', CHART, '-n', 'stratus-system', ...VALUES]);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const noStore = await helm(['template', 'stratus', CHART, '-n', 'stratus-system']);
    assert.notEqual(noStore.code, 0);
    assert.match(noStore.stderr, /s3\.endpoint is required|s3.*endpoint/);
    const badVirt = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'compute.virtType=xen']);
    assert.notEqual(badVirt.code, 0);
    assert.match(badVirt.stderr, /compute\.virtType.*(must be one of|value must be one of)/s);
    const elsewhere = await helm(['template', 'stratus', CHART, '-n', 'default', ...VALUES]);
    assert.match(elsewhere.stderr, /install Stratus into the stratus-system namespace/);
  });

  it('renders a node agent DaemonSet that gives the agent what it needs, read back by the agent’s own parser', async () => {
    const docs = await render();
    const ds = docs.find((d) => d.kind === 'DaemonSet');
    assert.ok(ds, 'a DaemonSet for nova-compute');
    const pod = ds.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { 'stratus.io/compute': 'true' });
    assert.equal(pod.hostNetwork, true, 'the agent API on the node address');
    const c = pod.containers[0];
    assert.ok(existsSync(join(ROOT, c.command[1])), `${c.command[1]} is the agent's entry point`);
    // ovn-host beside it: the node's switch and ovn-controller, sharing the switch's socket with the agent.
    assert.deepEqual(pod.containers.map((x: any) => x.name), ['nova-compute', 'ovsdb-server', 'ovs-vswitchd', 'ovn-controller']);
    assert.ok(c.volumeMounts.some((m: any) => m.mountPath === '/run/openvswitch'));
    // The environment as the kubelet would give it on node "compute-7" at 10.0.0.7 (fieldRefs, then $(VAR)s).
    const node = { 'spec.nodeName': 'compute-7', 'status.hostIP': '10.0.0.7' } as Record<string, string>;
    const env: Record<string, string> = {};
    for (const e of c.env) env[e.name] = e.valueFrom?.fieldRef ? node[e.valueFrom.fieldRef.fieldPath] : e.valueFrom?.secretKeyRef ? `<${e.valueFrom.secretKeyRef.key}>` : String(e.value).replace(/\$\((\w+)\)/g, (_: string, v: string) => env[v]);
    const config = agentConfigFromEnv(env);
    assert.deepEqual(
      { host: config.host, stateDir: config.stateDir, virtType: config.virtType, listenHost: config.listenHost, listenPort: config.listenPort, advertiseUrl: config.advertiseUrl, libvirtUri: config.libvirtUri },
      { host: 'compute-7', stateDir: '/var/lib/stratus/nova', virtType: 'auto', listenHost: '0.0.0.0', listenPort: 8790, advertiseUrl: 'http://10.0.0.7:8790', libvirtUri: 'qemu:///system' },
    );
    assert.equal(storeConfigFromEnv(env).endpoint, 'http://s3.example:9000', 'the image store it fetches images from');
    // libvirtd on the host opens disks by path: the state folder is mounted at the same path it has on the host.
    const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.name, m.mountPath]));
    const hostPaths = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v.hostPath.path]));
    assert.equal(mounts.state, config.stateDir);
    assert.equal(hostPaths.state, config.stateDir);
    assert.equal(hostPaths.libvirt, '/var/run/libvirt', "the host's libvirtd socket");
    assert.equal(mounts.libvirt, '/var/run/libvirt');
    const disabled = await render('--set', 'compute.enabled=false');
    assert.equal(disabled.filter((d) => d.kind === 'DaemonSet' || d.metadata?.name === 'stratus-nova-compute').length, 0);
  });

  it('with compute.driver kubevirt, renders the kubevirt driver instead of the node agents, read back by its own parser, with the RBAC it needs on KubeVirt', async () => {
    const docs = await render('--set', 'compute.driver=kubevirt,compute.kubevirt.availabilityZone=kv,compute.kubevirt.capacity.vcpus=128,compute.kubevirt.s3ReadSecret=image-reader,compute.kubevirt.s3Endpoint=http://s3.storage.svc:9000,compute.kubevirt.cephCsi.clusterID=0f1e2d3c-ceph,compute.kubevirt.cephCsi.secret=ceph-csi/csi-rbd-secret');
    assert.equal(docs.filter((d) => d.kind === 'DaemonSet').length, 0, 'no node agents: KubeVirt runs the guests');
    const dep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'stratus-nova-compute-kubevirt');
    assert.ok(dep, 'a Deployment for the kubevirt driver');
    const c = dep.spec.template.spec.containers[0];
    assert.ok(existsSync(join(ROOT, c.command[1])), `${c.command[1]} is the driver's entry point`);
    const env: Record<string, string> = {};
    for (const e of c.env) env[e.name] = e.valueFrom?.secretKeyRef ? `<${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}>` : String(e.value);
    const config = kubevirtConfigFromEnv(env);
    assert.deepEqual(config.imageSource, { endpoint: 'http://s3.storage.svc:9000', accessKeyId: '<image-reader/accessKeyId>', secretAccessKey: '<image-reader/secretAccessKey>' });
    assert.deepEqual([config.host, config.availabilityZone, config.capacity.vcpus], ['kubevirt', 'kv', 128]);
    assert.deepEqual(config.cephCsi, { clusterID: '0f1e2d3c-ceph', secret: { namespace: 'ceph-csi', name: 'csi-rbd-secret' }, driver: 'rbd.csi.ceph.com' }, "Cinder's RBD volumes are hot-plugged through ceph-csi");
    const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'stratus-nova-compute-kubevirt');
    const may = (group: string, resource: string, verb: string) => role.rules.some((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const [g, r, v] of [['kubevirt.io', 'virtualmachines', 'create'], ['kubevirt.io', 'virtualmachineinstances', 'watch'], ['cdi.kubevirt.io', 'datavolumes', 'delete'], ['subresources.kubevirt.io', 'virtualmachineinstances/pause', 'update'], ['subresources.kubevirt.io', 'virtualmachines/restart', 'update'], ['', 'secrets', 'create'], ['snapshot.kubevirt.io', 'virtualmachinesnapshots', 'create'], ['export.kubevirt.io', 'virtualmachineexports', 'create'], ['image.stratus.io', 'images/status', 'patch'], ['subresources.kubevirt.io', 'virtualmachines/addvolume', 'update'], ['subresources.kubevirt.io', 'virtualmachines/removevolume', 'update'], ['', 'persistentvolumeclaims', 'create'], ['', 'persistentvolumes', 'delete'], ['blockstorage.stratus.io', 'volumeattachments/status', 'patch'], ['blockstorage.stratus.io', 'volumeattachments', 'patch']])
      assert.ok(may(g, r, v), `may ${v} ${g}/${r}`);
    assert.ok(!docs.some((d) => d.kind === 'ClusterRole' && d.metadata.name === 'stratus-nova-compute'), 'no node agent role');
    const half = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'compute.driver=kubevirt,compute.kubevirt.cephCsi.clusterID=x']);
    assert.notEqual(half.code, 0);
    assert.match(half.stderr, /cephCsi\.secret .* goes with cephCsi\.clusterID/);
    const bad = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'compute.driver=xen']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /compute\.driver.*(must be one of|value must be one of)/s);
  });

  it('with cinder.rbd, renders Cinder on a Ceph pool and gives every compute node the keyring for its libvirt secret, read back by the agent’s own parser', async () => {
    const secretUuid = '3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11';
    const docs = await render('--set', `cinder.pool.enabled=false,cinder.rbd.enabled=true,cinder.rbd.existingSecret=ceph-cinder,cinder.rbd.secretUuid=${secretUuid}`);
    const cinder = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'stratus-cinder').spec.template.spec;
    const c = cinder.containers[0];
    const env = Object.fromEntries(c.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    const mount = c.volumeMounts.find((m: any) => m.name === 'ceph');
    assert.equal(mount.readOnly, true);
    assert.deepEqual(cinder.volumes.find((v: any) => v.name === 'ceph').secret.secretName, 'ceph-cinder');
    assert.deepEqual(
      { pool: env.CINDER_RBD_POOL, user: env.CINDER_RBD_USER, uuid: env.CINDER_RBD_SECRET_UUID, type: env.CINDER_RBD_VOLUME_TYPE },
      { pool: 'volumes', user: 'cinder', uuid: secretUuid, type: 'ceph' },
    );
    assert.ok(env.CINDER_RBD_CONF.startsWith(`${mount.mountPath}/`) && env.CINDER_RBD_KEYRING.startsWith(`${mount.mountPath}/`), 'ceph.conf and the keyring come from the Secret');
    assert.equal(env.CINDER_POOL_DIR, undefined, 'no file pool');
    assert.ok(env.CINDER_WORK_DIR && c.volumeMounts.some((m: any) => m.mountPath === env.CINDER_WORK_DIR), 'a work folder for image conversions');
    const node = docs.find((d) => d.kind === 'DaemonSet').spec.template.spec;
    const agent = node.containers[0];
    const nodeEnv: Record<string, string> = {};
    for (const e of agent.env) nodeEnv[e.name] = e.valueFrom ? 'x' : String(e.value);
    const keyring = agentConfigFromEnv(nodeEnv).cephKeyring!;
    const nodeMount = agent.volumeMounts.find((m: any) => m.name === 'ceph');
    assert.ok(keyring.startsWith(`${nodeMount.mountPath}/`), `the node's keyring ${keyring} is in the mounted Secret`);
    assert.ok(!agent.volumeMounts.some((m: any) => m.name === 'cinder-pool'), 'no file pool on the nodes');
    // The schema asks for the Secret and the UUID; no backend at all is refused with the reason.
    const noSecret = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'cinder.rbd.enabled=true']);
    assert.notEqual(noSecret.code, 0);
    assert.match(noSecret.stderr, /existingSecret/);
    const none = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'cinder.pool.enabled=false']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /enable a volume backend/);
  });

  it("gives Keystone's processes the account rules set in the values, off by default", async () => {
    const keystoneEnv = async (...extra: string[]) => {
      const c = (await render(...extra)).find((d) => d.kind === 'Deployment' && d.metadata.name === 'stratus-keystone').spec.template.spec.containers[0];
      return Object.fromEntries(c.env.filter((e: any) => /^KEYSTONE_(LOCKOUT|UNIQUE)/.test(e.name)).map((e: any) => [e.name, e.value]));
    };
    assert.deepEqual(await keystoneEnv(), { KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS: '0', KEYSTONE_LOCKOUT_DURATION_SECONDS: '1800', KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT: '0' });
    assert.deepEqual(await keystoneEnv('--set', 'keystone.securityCompliance.lockoutFailureAttempts=5,keystone.securityCompliance.uniqueLastPasswordCount=4'), { KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS: '5', KEYSTONE_LOCKOUT_DURATION_SECONDS: '1800', KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT: '4' });
    const refused = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'keystone.securityCompliance.lockoutFailureAttempts=-1']);
    assert.match(refused.stderr, /keystone.securityCompliance.lockoutFailureAttempts: Must be greater than or equal to 0/);
  });

  it('ships the dashboard and the console proxy, and lets the proxy reach the guests’ displays on the nodes', async () => {
    const docs = await render('--set', 'console.baseUrl=https://cloud.example.com/console/vnc_lite.html,console.tokenTtlSeconds=120,horizon.secureCookie=true');
    const deployment = (name: string) => docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name).spec.template.spec.containers[0];
    const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    const horizon = deployment('stratus-horizon');
    assert.equal(horizon.readinessProbe.httpGet.path, '/dashboard/healthz');
    assert.equal(envOf(horizon).HORIZON_SECURE_COOKIE, 'true');
    assert.equal(deployment('stratus-nova-novncproxy').readinessProbe.httpGet.path, '/vnc_lite.html');
    assert.deepEqual([envOf(deployment('stratus-nova')).NOVNCPROXY_BASE_URL, envOf(deployment('stratus-nova')).CONSOLE_TOKEN_TTL_SECONDS], ['https://cloud.example.com/console/vnc_lite.html', '120']);
    // The agent on node 10.0.0.7 has its guests' VNC listen there (the proxy runs elsewhere), as its own parser reads it.
    const agent = docs.find((d) => d.kind === 'DaemonSet').spec.template.spec.containers[0];
    const listen = agent.env.find((e: any) => e.name === 'NOVA_VNC_LISTEN').value.replace('$(HOST_IP)', '10.0.0.7');
    assert.equal(agentConfigFromEnv({ NOVA_VNC_LISTEN: listen }).vncListen, '10.0.0.7');
    const loopback = (await render('--set', 'compute.vncListen=127.0.0.1')).find((d) => d.kind === 'DaemonSet').spec.template.spec.containers[0];
    assert.equal(loopback.env.find((e: any) => e.name === 'NOVA_VNC_LISTEN').value, '127.0.0.1');
    const bad = await helm(['template', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'console.baseUrl=ftp://x']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /console\.baseUrl/);
    // Who may do what: the dashboard only reads; the proxy only reads servers.
    const roles = Object.fromEntries(docs.filter((d) => d.kind === 'ClusterRole').map((d) => [d.metadata.name, d.rules]));
    assert.ok(roles['stratus-horizon'].every((r: any) => r.verbs.every((v: string) => ['get', 'list', 'watch'].includes(v))), 'the dashboard reads, the APIs write');
    assert.deepEqual(roles['stratus-nova-novncproxy'], [
      { apiGroups: ['compute.stratus.io'], resources: ['instances'], verbs: ['get'] },
      // A server on the kubevirt hypervisor: its display is virt-api's VNC subresource.
      { apiGroups: ['subresources.kubevirt.io'], resources: ['virtualmachineinstances/vnc'], verbs: ['get'] },
    ]);
  });

  it('lets Nova’s API and controller write what they write: security groups, ports, image metadata, quotas, attachments', async () => {
    const docs = await render();
    const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'stratus-nova');
    const may = (group: string, resource: string, verb: string) => role.rules.some((r: any) => r.apiGroups.includes(group) && (r.resources.includes(resource) || r.resources.includes('*')) && (r.verbs.includes(verb) || r.verbs.includes('*')));
    // os-security-groups and their rules, the default group on first look, add/removeSecurityGroup on the server's ports,
    // the /images proxy's metadata and delete, os-quota-sets on the Tenant; a deleted server no agent held: its
    // ports unbound or deleted, its attachments' holds let go and deleted, its delete-on-termination volumes deleted;
    // a volume attached to an offloaded server, complete without a node.
    for (const [g, r, v] of [['blockstorage.stratus.io', 'volumeattachments', 'patch'], ['blockstorage.stratus.io', 'volumeattachments/status', 'patch'], ['blockstorage.stratus.io', 'volumeattachments', 'delete'], ['blockstorage.stratus.io', 'volumes', 'delete'], ['network.stratus.io', 'ports', 'delete'], ['network.stratus.io', 'securitygroups', 'create'], ['network.stratus.io', 'securitygroups', 'patch'], ['network.stratus.io', 'securitygroups', 'delete'], ['network.stratus.io', 'ports', 'patch'], ['image.stratus.io', 'images', 'patch'], ['image.stratus.io', 'images', 'delete'], ['identity.stratus.io', 'tenants', 'patch']])
      assert.ok(may(g, r, v), `nova may ${v} ${g}/${r}`);
    assert.ok(!may('network.stratus.io', 'networks', 'patch'), 'but does not change networks');
  });

  it('keeps the Secrets of the release namespace from the processes that keep none: Glance, Neutron and Cinder read none, the dashboard only its session key', async () => {
    const docs = await render();
    const rules = (component: string) => docs.find((d) => d.kind === 'Role' && d.metadata.name === `stratus-${component}`).rules as Array<{ resources: string[]; verbs: string[]; resourceNames?: string[] }>;
    const onSecrets = (component: string) => rules(component).filter((r) => r.resources.includes('secrets'));
    for (const component of ['glance', 'neutron', 'cinder']) {
      assert.deepEqual(onSecrets(component), [], `${component} may do nothing with Secrets`);
      assert.ok(rules(component).some((r) => r.resources.includes('configmaps') && r.verbs.includes('watch')), `${component} keeps its ConfigMaps`);
    }
    const horizon = onSecrets('horizon');
    assert.ok(horizon.every((r) => r.verbs.every((v) => v === 'create') || r.resourceNames?.join() === 'horizon-session-key'), 'the dashboard reads its session key only');
    assert.ok(!horizon.some((r) => r.verbs.includes('list') || r.verbs.includes('watch')), 'and lists none');
    for (const component of ['keystone', 'nova', 'nova-novncproxy']) assert.ok(onSecrets(component).some((r) => r.verbs.includes('get') && !r.resourceNames), `${component} keeps Secrets there`);
  });

  it('runs each operator from its entry point, bound to every address, with Keystone where it validates tokens', async () => {
    const docs = await render();
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['stratus-cinder', 'stratus-glance', 'stratus-horizon', 'stratus-keystone', 'stratus-neutron', 'stratus-nova', 'stratus-nova-novncproxy', 'stratus-ovn-central']);
    // The volume pool: the same folder in cinder and on every compute node, at the path its connection info names.
    const cinder = deployments.find((d) => d.metadata.name === 'stratus-cinder').spec.template.spec;
    const pool = (spec: any) => spec.volumes.find((v: any) => v.name === 'cinder-pool');
    const compute = docs.find((d) => d.kind === 'DaemonSet').spec.template.spec;
    assert.deepEqual(pool(cinder), pool(compute));
    assert.equal(cinder.containers[0].env.find((e: any) => e.name === 'CINDER_POOL_DIR').value, cinder.containers[0].volumeMounts[0].mountPath);
    assert.ok(compute.containers[0].volumeMounts.some((m: any) => m.name === 'cinder-pool' && m.mountPath === cinder.containers[0].volumeMounts[0].mountPath));
    const claimed = (await render('--set', 'cinder.pool.existingClaim=shared-pool')).find((d) => d.kind === 'Deployment' && d.metadata.name === 'stratus-cinder');
    assert.deepEqual(pool(claimed.spec.template.spec), { name: 'cinder-pool', persistentVolumeClaim: { claimName: 'shared-pool' } });
    // OVN's central databases: what the networking operator's OVN_NB_REMOTE and OVN_SB_REMOTE name.
    const central = deployments.find((d) => d.metadata.name === 'stratus-ovn-central');
    assert.deepEqual(central.spec.template.spec.containers.map((c: any) => c.name), ['ovsdb-nb', 'ovsdb-sb', 'ovn-northd']);
    const neutronEnv = Object.fromEntries(deployments.find((d) => d.metadata.name === 'stratus-neutron').spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    assert.deepEqual([neutronEnv.OVN_NB_REMOTE, neutronEnv.OVN_SB_REMOTE], ['tcp:stratus-ovn-central.stratus-system.svc:6641', 'tcp:stratus-ovn-central.stratus-system.svc:6642']);
    for (const d of deployments.filter((x) => x.metadata.name !== 'stratus-ovn-central')) {
      const c = d.spec.template.spec.containers[0];
      assert.ok(existsSync(join(ROOT, c.command[1])), `${d.metadata.name}: ${c.command[1]} exists`);
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
      assert.ok(Object.entries(env).some(([k, v]) => k.endsWith('_HOST') && v === '0.0.0.0'), `${d.metadata.name} listens beyond loopback`);
      if (d.metadata.name !== 'stratus-keystone' && d.metadata.name !== 'stratus-nova-novncproxy') assert.equal(env.KEYSTONE_URL, 'http://stratus-keystone.stratus-system.svc:5000/v3');
      assert.equal(d.spec.template.spec.serviceAccountName, d.metadata.name);
      // The V8 settings stratus up runs it with (Glance's small young generation), here through NODE_OPTIONS.
      const up = OPERATORS.find((o) => `stratus-${o.name}` === d.metadata.name);
      assert.equal(env.NODE_OPTIONS, up?.nodeArgs?.join(' '), `${d.metadata.name} runs with stratus up's Node options`);
    }
    assert.ok(OPERATORS.some((o) => o.nodeArgs?.length), 'stratus up gives some operator Node options');
    const job = docs.find((d) => d.kind === 'Job');
    const urls = Object.fromEntries(job.spec.template.spec.containers[0].env.filter((e: any) => e.name.endsWith('_URL')).map((e: any) => [e.name, e.value]));
    assert.deepEqual(urls, { STRATUS_IDENTITY_URL: 'http://stratus-keystone.stratus-system.svc:5000/v3', STRATUS_IMAGE_URL: 'http://stratus-glance.stratus-system.svc:9292', STRATUS_COMPUTE_URL: 'http://stratus-nova.stratus-system.svc:8774/v2.1', STRATUS_NETWORK_URL: 'http://stratus-neutron.stratus-system.svc:9696', STRATUS_BLOCK_STORAGE_URL: 'http://stratus-cinder.stratus-system.svc:8776/v3' });
    const behindIngress = (await render('--set', 'publicUrl=https://cloud.example.com')).find((d) => d.kind === 'Job');
    assert.equal(behindIngress.spec.template.spec.containers[0].env.find((e: any) => e.name === 'STRATUS_COMPUTE_URL').value, 'https://cloud.example.com/compute/v2.1');
  });

  it("ships the APIs' admission webhooks for kube-apiserver: https to each API's webhook port, trusting a CA whose certificate names the Services", async () => {
    const docs = await render();
    const secret = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'stratus-admission-tls');
    const ca = new X509Certificate(Buffer.from(secret.data['ca.crt'], 'base64'));
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    assert.ok(cert.verify(ca.publicKey), 'the serving certificate is signed by the CA');
    assert.ok(createPrivateKey(Buffer.from(secret.data['tls.key'], 'base64')), 'with its key');
    // The webhooks `stratus up` registers (operators.ts), so the chart and the one-machine cloud cannot drift apart.
    const expected = OPERATORS.flatMap((o) => (o.admission ? [{ ...o.admission, config: `stratus-${o.admission.config}`, component: o.name }] : []));
    assert.deepEqual(expected.map((e) => e.component), ['glance', 'nova', 'neutron', 'cinder']);
    assert.deepEqual(docs.filter((d) => d.kind === 'ValidatingWebhookConfiguration').map((d) => d.metadata.name).sort(), expected.map((e) => e.config).sort(), 'the chart ships those and no other');
    for (const e of expected) {
      const hook = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration' && d.metadata.name === e.config).webhooks[0];
      assert.equal(hook.name, e.name);
      assert.deepEqual(hook.rules, [{ operations: ['CREATE', 'UPDATE'], apiGroups: [e.group], apiVersions: ['*'], resources: e.resources }]);
      assert.deepEqual(hook.admissionReviewVersions, ['v1']);
      assert.equal(hook.sideEffects, 'None');
      assert.equal(hook.clientConfig.service.path, e.path, "the path the API's webhook answers");
      assert.equal(hook.clientConfig.service.name, `stratus-${e.component}`);
      // kube-apiserver trusts caBundle, and checks the certificate names the Service it calls.
      assert.equal(hook.clientConfig.caBundle, secret.data['ca.crt']);
      assert.equal(cert.checkHost(`stratus-${e.component}.stratus-system.svc`), `stratus-${e.component}.stratus-system.svc`);
      // The Service's webhook port leads to the container port the API listens on with the mounted certificate.
      const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === `stratus-${e.component}`);
      assert.equal(service.spec.ports.find((p: any) => p.port === hook.clientConfig.service.port)?.targetPort, 'webhook');
      const pod = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === `stratus-${e.component}`).spec.template.spec;
      const container = pod.containers[0];
      const env = Object.fromEntries(container.env.map((x: any) => [x.name, x.value]));
      assert.equal(String(container.ports.find((p: any) => p.name === 'webhook').containerPort), env.ADMISSION_PORT);
      const mount = container.volumeMounts.find((m: any) => m.mountPath === env.ADMISSION_TLS_DIR);
      assert.equal(pod.volumes.find((v: any) => v.name === mount.name).secret.secretName, secret.metadata.name);
    }
    const off = await render('--set', 'admissionWebhooks.enabled=false');
    assert.ok(!off.some((d) => d.kind === 'ValidatingWebhookConfiguration'), 'they can be turned off');
  });

  it('installs, upgrades (keeping the admin password) and uninstalls with helm against the control plane', async () => {
    const kc = cluster.kubeconfig;
    const install = await helm(['install', 'stratus', CHART, '-n', 'stratus-system', '--create-namespace', ...VALUES], kc);
    assert.equal(install.code, 0, install.stderr);
    assert.match(install.stdout, /STATUS: deployed/);
    const crds = (await cluster.ok(['get', 'crds', '-o', 'name'])).split('\n').filter((n) => n.includes('.stratus.io'));
    assert.equal(crds.length, readdirSync(join(CHART, 'crds')).length, 'the CRDs from the chart');
    const workloads = await cluster.ok(['get', 'daemonsets,deployments,services,jobs', '-n', 'stratus-system', '-o', 'name']);
    assert.deepEqual(workloads.trim().split('\n').sort(), [
      'daemonset.apps/stratus-nova-compute',
      'deployment.apps/stratus-cinder',
      'deployment.apps/stratus-glance',
      'deployment.apps/stratus-horizon',
      'deployment.apps/stratus-keystone',
      'deployment.apps/stratus-neutron',
      'deployment.apps/stratus-nova',
      'deployment.apps/stratus-nova-novncproxy',
      'deployment.apps/stratus-ovn-central',
      'job.batch/stratus-bootstrap-1',
      'service/stratus-cinder',
      'service/stratus-glance',
      'service/stratus-horizon',
      'service/stratus-keystone',
      'service/stratus-neutron',
      'service/stratus-nova',
      'service/stratus-nova-novncproxy',
      'service/stratus-ovn-central',
    ]);
    const password = await cluster.ok(['get', 'secret', 'stratus-admin', '-n', 'stratus-system', '-o', 'jsonpath={.data.password}']);
    const webhookCa = await cluster.ok(['get', 'secret', 'stratus-admission-tls', '-n', 'stratus-system', '-o', 'jsonpath={.data.ca\\.crt}']);
    assert.equal(await cluster.ok(['get', 'validatingwebhookconfiguration', 'stratus-compute', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']), webhookCa);
    assert.ok(Buffer.from(password, 'base64').toString().length >= 16, 'a generated admin password');
    const upgrade = await helm(['upgrade', 'stratus', CHART, '-n', 'stratus-system', ...VALUES, '--set', 'nova.replicas=3'], kc);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.equal(await cluster.ok(['get', 'deployment', 'stratus-nova', '-n', 'stratus-system', '-o', 'jsonpath={.spec.replicas}']), '3');
    assert.equal(await cluster.ok(['get', 'secret', 'stratus-admin', '-n', 'stratus-system', '-o', 'jsonpath={.data.password}']), password, 'the password survives an upgrade');
    assert.equal(await cluster.ok(['get', 'secret', 'stratus-admission-tls', '-n', 'stratus-system', '-o', 'jsonpath={.data.ca\\.crt}']), webhookCa, "so does the webhook's CA (Nova's pods keep trusting the same one)");
    assert.match(await cluster.ok(['get', 'jobs', '-n', 'stratus-system', '-o', 'name']), /^job\.batch\/stratus-bootstrap-2\s*$/, 'a bootstrap per revision');
    const uninstall = await helm(['uninstall', 'stratus', '-n', 'stratus-system'], kc);
    assert.equal(uninstall.code, 0, uninstall.stderr);
    assert.equal((await cluster.ok(['get', 'all,secrets,serviceaccounts', '-n', 'stratus-system', '-o', 'name'])).trim(), '');
    assert.equal((await helm(['list', '-A', '-q'], kc)).stdout.trim(), '', 'no release left');
  });
});
