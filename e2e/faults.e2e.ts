/**
 * Fault injection: a hundred create/delete cycles of images, servers and projects through the OpenStack APIs
 * while a seeded chance SIGKILLs an operator, the node agent or the control plane (`stratus up` itself, which is
 * then started again on the same state) at random points. Afterwards, with everything restarted, every resource
 * must converge, everything a resource owns must exist, and nothing may be left that no resource owns: no
 * libvirt guest, instance folder, S3 object or unfinished multipart upload, RoleBinding or namespace.
 *
 *   make test-faults [FAULT_SEED=n] [FAULT_CYCLES=n]   (the seed is printed; the same seed makes the same choices)
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { KubeConfig } from '@kubernetes/client-node';
import { eventually } from '@stratus/apiserver';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { IMAGES, keyFromLocation, type Image } from '@stratus/glance';
import { HYPERVISORS, INSTANCES, LibvirtDriver, type Hypervisor, type Instance } from '@stratus/nova';
import { NAMESPACES, ROLE_ASSIGNMENTS, ROLE_BINDINGS, TENANTS, TENANT_LABEL } from '@stratus/keystone';
import { KubeClient } from '@stratus/runtime';
import { Chance, entriesOf, operatorPids, transient, type Reply } from './lib/faults.js';
import { alive, childrenOf } from './lib/processes.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const sh = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SEED = Number(process.env.FAULT_SEED || Math.floor(Math.random() * 2 ** 31));
const CYCLES = Number(process.env.FAULT_CYCLES || 100);
const TARGETS = { keystone: 1, glance: 1, nova: 1, 'nova-compute': 1, 'control-plane': 1 };
type Target = keyof typeof TARGETS;


describe(`fault injection: ${CYCLES} create/delete cycles under random SIGKILLs (seed ${SEED})`, function () {
  this.timeout(60 * 60_000);
  const chance = new Chance(SEED);
  let cloud: RunningCloud;
  let base = '';
  let token = '';
  let testImage = '';
  let memberId = '';
  let memberRoleId = '';
  const killed: Record<Target, number> = { keystone: 0, glance: 0, nova: 0, 'nova-compute': 0, 'control-plane': 0 };
  const outcomes: string[] = [];
  const cloudOpts = () => ({ env: { STRATUS_RESTART_BACKOFF_MAX_SECONDS: '2' } });

  /** One API call through the gateway as it is now (a restarted cloud has new ports); status 0 when nothing answered. */
  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const raw = Buffer.isBuffer(body);
    try {
      const res = await fetch(base + path, {
        method,
        headers: { 'X-Auth-Token': token, ...(body === undefined ? {} : { 'Content-Type': raw ? 'application/octet-stream' : 'application/json' }) },
        body: body === undefined ? undefined : raw ? (body as Buffer) : JSON.stringify(body),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed, token: res.headers.get('x-subject-token') ?? undefined } as Reply;
    } catch {
      return { status: 0, body: undefined };
    }
  }

  /** The admin's token, from wherever the cloud now answers. */
  async function signIn(): Promise<void> {
    const { authUrl, password } = cloud.admin();
    base = authUrl.replace(/\/identity\/v3\/?$/, '');
    const auth = { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } };
    const deadline = Date.now() + 180_000;
    for (;;) {
      const r = (await call('POST', '/identity/v3/auth/tokens', { auth })) as Reply & { token?: string };
      if (r.status === 201 && r.token) return void (token = r.token);
      assert.ok(Date.now() < deadline && (transient(r) || r.status === 401), `signing in: ${r.status} ${JSON.stringify(r.body)}`);
      await sleep(500);
    }
  }

  /** A call made again while the service is down or restarting (bounded), with a new token when the old one is refused. */
  async function steady(method: string, path: string, body?: unknown): Promise<Reply> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const r = await call(method, path, body);
      if (!transient(r) && r.status !== 401) return r;
      if (Date.now() > deadline) return r;
      if (r.status === 401) await signIn();
      else await sleep(500);
    }
  }

  async function restartCloud(): Promise<void> {
    cloud = await startCloud(300_000, cloud.dir, cloudOpts());
    await signIn();
  }

  /** SIGKILL: an operator (the supervisor starts it again) or `stratus up` with its control plane (started again here). */
  async function inject(target: Target): Promise<void> {
    if (target !== 'control-plane') {
      const pid = operatorPids(cloud.process.pid!).get(target);
      if (pid === undefined) return; // between a death and its restart: nothing to kill this time
      process.kill(pid, 'SIGKILL');
      killed[target]++;
      return;
    }
    const children = childrenOf(cloud.process.pid!);
    const exited = new Promise((r) => cloud.process.once('exit', r));
    cloud.process.kill('SIGKILL');
    await exited;
    killed['control-plane']++;
    await eventually('the children of the killed stratus up to end with it', () => children.every((p) => !alive(p)), 60_000, 1000);
    await restartCloud();
  }

  const kube = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cloud.kubeconfig);
    return new KubeClient(kc);
  };
  const s3 = () => {
    const c = cloud.s3();
    return { bucket: c.bucket, client: new S3Client({ endpoint: c.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } }) };
  };
  const guests = async () => (await new LibvirtDriver({ uri: 'qemu:///system', virtType: 'qemu', fallbackFile: '' }).guests()).filter((g) => g.metadata.agentHome?.startsWith(cloud.dir));
  const instanceFolders = () => entriesOf(join(cloud.dir, 'nova/instances'));

  before(async () => {
    console.log(`    fault injection seed ${SEED} (FAULT_SEED=${SEED} FAULT_CYCLES=${CYCLES} make test-faults replays it)`);
    const imageFile = (await sh('bash', [join(ROOT, 'hack/build-test-image.sh')], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').pop()!;
    cloud = await startCloud(180_000, undefined, cloudOpts());
    await signIn();
    assert.equal((await steady('POST', '/compute/v2.1/flavors', { flavor: { name: 'fault.tiny', id: 'fault.tiny', vcpus: 1, ram: 128, disk: 1 } })).status, 200);
    const img = await steady('POST', '/image/v2/images', { name: 'fault-base', disk_format: 'raw', container_format: 'bare', visibility: 'public' });
    testImage = img.body.id;
    assert.equal((await steady('PUT', `/image/v2/images/${testImage}/file`, readFileSync(imageFile))).status, 204);
    const user = await steady('POST', '/identity/v3/users', { user: { name: 'fault-member', domain_id: 'default', password: 'fault-member-pw' } });
    memberId = user.body.user.id;
    memberRoleId = (await steady('GET', '/identity/v3/roles?name=member')).body.roles[0].id;
  });

  after(async () => {
    if (!cloud) return;
    await cloud.stop();
    await cloud.remove();
  });

  /** A reply's status, and what it said when it is not a success (the cycle's log shows why). */
  const said = (r: Reply) => (r.status >= 200 && r.status < 300 ? String(r.status) : `${r.status} ${JSON.stringify(r.body ?? null).slice(0, 300)}`);

  /** An image made, given data (8 MiB and more goes up in parts), perhaps seen active, and deleted. */
  async function imageCycle(i: number, bytes: number, waitActive: boolean): Promise<string> {
    const c = await steady('POST', '/image/v2/images', { name: `fault-image-${i}`, disk_format: 'raw', container_format: 'bare' });
    if (c.status !== 201) return `image create ${said(c)}`;
    const up = await steady('PUT', `/image/v2/images/${c.body.id}/file`, randomBytes(bytes));
    if (waitActive && up.status === 204)
      await eventually(`image ${c.body.id} active`, async () => (await steady('GET', `/image/v2/images/${c.body.id}`)).body?.status === 'active', 120_000, 1000).catch(() => {});
    const d = await steady('DELETE', `/image/v2/images/${c.body.id}`);
    return `image upload ${said(up)} delete ${said(d)}`;
  }

  /** A server asked for, left to build a while, and deleted. */
  async function serverCycle(i: number, lifeMs: number): Promise<string> {
    const c = await steady('POST', '/compute/v2.1/servers', { server: { name: `fault-server-${i}`, imageRef: testImage, flavorRef: 'fault.tiny' } });
    if (c.status !== 202) return `server create ${said(c)}`;
    await sleep(lifeMs);
    const d = await steady('DELETE', `/compute/v2.1/servers/${c.body.server.id}`);
    return `server delete ${said(d)}`;
  }

  /** A project with a member (its namespace and RoleBinding), deleted again. */
  async function projectCycle(i: number): Promise<string> {
    const c = await steady('POST', '/identity/v3/projects', { project: { name: `fault-project-${i}`, domain_id: 'default' } });
    if (c.status !== 201) return `project create ${said(c)}`;
    const g = await steady('PUT', `/identity/v3/projects/${c.body.project.id}/users/${memberId}/roles/${memberRoleId}`);
    const d = await steady('DELETE', `/identity/v3/projects/${c.body.project.id}`);
    return `project grant ${said(g)} delete ${said(d)}`;
  }

  it('runs the cycles while operators, the node agent and the control plane are killed at random points', async () => {
    for (let i = 0; i < CYCLES; i++) {
      // Every choice is drawn before anything runs, so the seed alone decides them whatever the timing.
      const kind = chance.pick({ image: 4, server: 3, project: 3 });
      const bytes = chance.odds(0.3) ? chance.between(9, 24) << 20 : chance.between(1, 512) << 10;
      const waitActive = chance.odds(0.5);
      const lifeMs = chance.between(0, 6000);
      const fault = chance.odds(0.6) ? { target: chance.pick(TARGETS), afterMs: chance.between(0, 3000) } : undefined;

      const injected = fault ? sleep(fault.afterMs).then(() => inject(fault.target)) : Promise.resolve();
      const outcome = kind === 'image' ? await imageCycle(i, bytes, waitActive) : kind === 'server' ? await serverCycle(i, lifeMs) : await projectCycle(i);
      await injected;
      outcomes.push(`${i} ${kind}${fault ? ` (kill ${fault.target} at ${fault.afterMs} ms)` : ''}: ${outcome}`);
    }
    console.log(`    killed: ${JSON.stringify(killed)}`);
    if (process.env.FAULT_VERBOSE) console.log(outcomes.map((o) => `      ${o}`).join('\n'));
    if (CYCLES >= 50) for (const t of Object.keys(TARGETS) as Target[]) assert.ok(killed[t] > 0, `${t} was never killed: the run did not test what it says`);
  });

  it('converges once everything is restarted: no resource left in a passing state, every deletion finished', async () => {
    await cloud.stop();
    await restartCloud();
    const k = kube();
    let why = '';
    await eventually('every resource to converge', async () => {
      const images = (await steady('GET', '/image/v2/images?limit=1000')).body?.images ?? [];
      const servers = (await steady('GET', '/compute/v2.1/servers/detail?all_tenants=1')).body?.servers ?? [];
      const kinds = await Promise.all([IMAGES, INSTANCES, TENANTS, ROLE_ASSIGNMENTS, NAMESPACES].map((r) => k.list<any>(r).then((l) => l.items)));
      const unsettled = [
        ...images.filter((i: any) => !['active', 'queued'].includes(i.status)).map((i: any) => `image ${i.name} ${i.status}`),
        ...servers.filter((s: any) => !['ACTIVE', 'SHUTOFF'].includes(s.status) || s['OS-EXT-STS:task_state']).map((s: any) => `server ${s.name} ${s.status}/${s['OS-EXT-STS:task_state']}`),
        ...kinds.flat().filter((o) => o.metadata.deletionTimestamp).map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} still being deleted (${o.metadata.finalizers})`),
        ...kinds.slice(2, 4).flat().filter((o) => o.status?.conditions?.find((c: any) => c.type === 'Ready')?.status !== 'True').map((o) => `${o.kind} ${o.metadata.name} not Ready`),
      ];
      why = unsettled.join('; ');
      return unsettled.length === 0;
    }, 300_000, 1000).catch((e) => assert.fail(`${(e as Error).message}: ${why}`));
  });

  it('has everything each resource owns: image data in S3, guests and their folders, namespaces, RoleBindings', async () => {
    const k = kube();
    const { client, bucket } = s3();
    for (const img of (await k.list<Image>(IMAGES)).items.filter((i) => i.status?.phase === 'active')) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyFromLocation(img.status!.location)! }));
      assert.equal(head.ContentLength, img.status!.size, `the data of image ${img.metadata.name}`);
    }
    const onNode = await guests();
    for (const inst of (await k.list<Instance>(INSTANCES)).items) {
      assert.ok(onNode.some((g) => g.metadata.namespace === inst.metadata.namespace && g.metadata.name === inst.metadata.name), `the guest of ${inst.metadata.namespace}/${inst.metadata.name}`);
      assert.ok(existsSync(join(cloud.dir, 'nova/instances', inst.metadata.uid!)), `the folder of ${inst.metadata.name}`);
    }
    const namespaces = (await k.list<any>(NAMESPACES)).items;
    for (const t of (await k.list<any>(TENANTS)).items) assert.ok(namespaces.some((n) => n.metadata.labels?.[TENANT_LABEL] === t.metadata.name), `the namespace of tenant ${t.metadata.name}`);
    const bindings = (await k.list<any>(ROLE_BINDINGS)).items;
    for (const ra of (await k.list<any>(ROLE_ASSIGNMENTS)).items)
      assert.ok(bindings.some((b) => b.metadata.ownerReferences?.some((o: any) => o.uid === ra.metadata.uid)), `the RoleBinding of ${ra.metadata.namespace}/${ra.metadata.name}`);
  });

  it('leaves nothing no resource owns once the cycles’ leftovers are deleted', async () => {
    // What a cycle could not delete (its call came while a service was down) goes now, as a user would clean up.
    for (const img of (await steady('GET', '/image/v2/images?limit=1000')).body.images.filter((i: any) => i.name?.startsWith('fault-image-'))) await steady('DELETE', `/image/v2/images/${img.id}`);
    for (const s of (await steady('GET', '/compute/v2.1/servers?all_tenants=1&name=^fault-server-')).body.servers) await steady('DELETE', `/compute/v2.1/servers/${s.id}`);
    for (const p of (await steady('GET', '/identity/v3/projects')).body.projects.filter((p: any) => p.name.startsWith('fault-project-'))) await steady('DELETE', `/identity/v3/projects/${p.id}`);
    const k = kube();
    await eventually('the leftovers to be deleted', async () => {
      const [imgs, insts, tenants] = await Promise.all([k.list<Image>(IMAGES), k.list<Instance>(INSTANCES), k.list<any>(TENANTS)]);
      return !imgs.items.some((i) => i.spec.displayName?.startsWith('fault-image-')) && insts.items.length === 0 && !tenants.items.some((t) => t.spec?.displayName?.startsWith('fault-project-'));
    }, 300_000, 1000);

    const [images, instances, tenants, assignments] = await Promise.all([IMAGES, INSTANCES, TENANTS, ROLE_ASSIGNMENTS].map((r) => k.list<any>(r).then((l) => l.items)));
    const ownedKeys = new Set(images.map((i: Image) => keyFromLocation(i.status?.location)).filter(Boolean));
    const { client, bucket } = s3();
    const objects = (await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }))).Contents ?? [];
    assert.deepEqual(objects.map((o) => o.Key).filter((key) => !ownedKeys.has(key)), [], 'S3 objects no image owns');
    const { Uploads = [] } = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(Uploads.map((u) => u.Key), [], 'multipart uploads neither completed nor aborted');
    assert.deepEqual((await guests()).filter((g) => !instances.some((i: Instance) => i.metadata.namespace === g.metadata.namespace && i.metadata.name === g.metadata.name)).map((g) => g.name), [], 'libvirt guests no Instance owns');
    assert.deepEqual(instanceFolders().filter((uid) => !instances.some((i: Instance) => i.metadata.uid === uid)), [], 'instance folders no Instance owns');
    const bindings = (await k.list<any>(ROLE_BINDINGS)).items.filter((b) => b.metadata.ownerReferences?.some((o: any) => o.kind === 'RoleAssignment'));
    assert.deepEqual(bindings.filter((b) => !b.metadata.ownerReferences.some((o: any) => assignments.some((a: any) => a.metadata.uid === o.uid))).map((b) => `${b.metadata.namespace}/${b.metadata.name}`), [], 'RoleBindings no assignment owns');
    const namespaces = (await k.list<any>(NAMESPACES)).items.filter((n) => n.metadata.labels?.[TENANT_LABEL]);
    assert.deepEqual(namespaces.filter((n) => !tenants.some((t: any) => t.metadata.name === n.metadata.labels[TENANT_LABEL])).map((n) => n.metadata.name), [], 'namespaces no tenant owns');
    // Claims are given back once a deletion is seen, whoever was down meanwhile: the room is the hosts' again.
    let claims: string[] = [];
    await eventually('the hypervisors’ ledgers to give back every deleted server’s room', async () => {
      claims = (await k.list<Hypervisor>(HYPERVISORS)).items.flatMap((h) => Object.keys(h.status?.allocations ?? {}).map((key) => `${h.metadata.name}: ${key}`));
      return claims.length === 0;
    }, 120_000, 1000).catch((e) => assert.fail(`${(e as Error).message}: ${claims.join(', ')}`));
  });
});
