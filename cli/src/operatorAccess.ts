/**
 * Each process of the cloud as the Helm chart's ServiceAccount for it, under the chart's own RBAC: `stratus up`
 * renders the chart's rbac.yaml (what a Helm install applies), applies it, and gives each process a token of its
 * own that the control plane knows as that ServiceAccount (as kube-apiserver's --token-auth-file does). So every
 * run of the cloud, the tests' included, has the permissions a Helm install grants, and a rule the chart lacks
 * is a 403 here first. A process the chart does not ship (KubeVirt's stand-in) keeps the admin's kubeconfig.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { writeKubeconfig, type TokenAuthenticator, type UserInfo } from '@stratus/apiserver';
import type { KubeClient, ResourceRef } from '@stratus/runtime';
import { CLUSTER_ROLES, ROLE_BINDINGS, SYSTEM_NAMESPACE } from '@stratus/keystone';

/** The Helm release whose names the cloud's ServiceAccounts, roles and bindings take (`helm install stratus`). */
export const RELEASE = 'stratus';

const RBAC_REFS: Record<string, ResourceRef> = {
  ServiceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  ClusterRole: CLUSTER_ROLES,
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  RoleBinding: ROLE_BINDINGS,
};

/** The user a ServiceAccount's token authenticates as, with the groups Kubernetes gives every ServiceAccount. Pure. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { username: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

/**
 * The chart's ServiceAccounts, roles and bindings, rendered by the real helm (hack/helm.sh) as an install would;
 * with `kubevirt`, those of both compute drivers (`stratus up --kubevirt` runs the libvirt node agent beside it).
 */
export async function renderChartRbac(root: string, o: { kubevirt: boolean }): Promise<KubernetesObject[]> {
  const digest = chartDigest(join(root, 'charts/stratus'));
  const rendered = await Promise.all(['libvirt', ...(o.kubevirt ? ['kubevirt'] : [])].map((driver) => renderRbacFor(root, driver, digest)));
  const byName = new Map(rendered.flat().map((d) => [`${d.kind}/${d.metadata?.name}`, d]));
  return [...byName.values()];
}

/**
 * One driver's render, kept in .cache/ under the digest of the chart's files: helm takes seconds, and the chart
 * changes far less often than a cloud starts (every e2e suite starts one).
 */
async function renderRbacFor(root: string, driver: string, chartDigest: string): Promise<KubernetesObject[]> {
  const cached = join(root, '.cache/chart-rbac', `${driver}-${chartDigest}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as KubernetesObject[];
  const args = ['template', RELEASE, join(root, 'charts/stratus'), '-n', SYSTEM_NAMESPACE, '--show-only', 'templates/rbac.yaml'];
  // The S3 settings the chart requires play no part in its RBAC.
  args.push('--set', `s3.endpoint=http://s3.invalid,s3.accessKeyId=unused,s3.secretAccessKey=unused,compute.driver=${driver}`);
  const { stdout } = await promisify(execFile)(join(root, 'hack/helm.sh'), args, { maxBuffer: 16 << 20 }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`rendering the chart's RBAC failed: ${e.stderr?.trim() || e.message}`);
  });
  const objects = parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => !!d?.kind);
  // Written aside and renamed, so a cloud starting beside this one reads a whole render or none; a checkout it
  // may not write to only renders again next time. Renders of this driver's older charts go.
  try {
    mkdirSync(dirname(cached), { recursive: true });
    writeFileSync(`${cached}.${process.pid}`, JSON.stringify(objects));
    renameSync(`${cached}.${process.pid}`, cached);
    for (const f of staleRenders(readdirSync(dirname(cached)), driver, chartDigest)) rmSync(join(dirname(cached), f), { force: true });
  } catch {
    /* not cached */
  }
  return objects;
}

/** The cached renders of `driver` for a chart other than the one of `digest` (whole files only: a part file may be another process's). Pure. */
export function staleRenders(files: string[], driver: string, digest: string): string[] {
  return files.filter((f) => new RegExp(`^${driver}-[0-9a-f]{16}\\.json$`).test(f) && f !== `${driver}-${digest}.json`);
}

/** A digest of every file of the chart, by path and content. */
function chartDigest(chart: string): string {
  const hash = createHash('sha256');
  for (const f of (readdirSync(chart, { recursive: true }) as string[]).sort()) {
    const path = join(chart, f);
    if (statSync(path).isFile()) hash.update(f).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Applies the rendered RBAC server-side, in the release's namespace where namespaced. */
export async function applyRbac(client: KubeClient, objects: KubernetesObject[], fieldManager: string): Promise<void> {
  for (const o of objects) {
    const ref = RBAC_REFS[o.kind!];
    if (!ref) throw new Error(`the chart's rbac.yaml holds a ${o.kind}, which stratus up does not apply`);
    await client.apply(ref, { ...o, metadata: { ...o.metadata, ...(ref.namespaced ? { namespace: SYSTEM_NAMESPACE } : {}) } }, fieldManager);
  }
}

/**
 * The processes the chart ships, by their ServiceAccounts in its rendered RBAC: the one for process `p` is named
 * `<release>-<p>` (as the chart's Deployments name them). Pure.
 */
export function chartProcesses(rbac: KubernetesObject[]): Set<string> {
  const prefix = `${RELEASE}-`;
  const names = rbac.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata?.name ?? '');
  return new Set(names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)));
}

/** The tokens of the cloud's processes, each its chart ServiceAccount's; new ones each start of the cloud. */
export class ProcessTokens implements TokenAuthenticator {
  private readonly users = new Map<string, UserInfo>();
  private processes = new Set<string>();

  /** Takes the chart's rendered RBAC: a process gets a token only where it has a ServiceAccount there. */
  useChart(rbac: KubernetesObject[]): void {
    this.processes = chartProcesses(rbac);
  }

  /** Writes a kubeconfig for `process` under `dir` and answers its path; undefined for a process the chart does not ship. */
  kubeconfigFor(process: string, dir: string, server: string, caCert?: string): string | undefined {
    if (!this.processes.has(process)) return undefined;
    const token = randomBytes(24).toString('base64url');
    this.users.set(token, serviceAccountUser(SYSTEM_NAMESPACE, `${RELEASE}-${process}`));
    const file = join(dir, `${process}.kubeconfig`);
    writeKubeconfig(file, server, token, caCert);
    return file;
  }

  async authenticate(token: string): Promise<UserInfo | undefined> {
    return this.users.get(token);
  }
}
